// The pure parts of npm run bench:compare-executor (the README block generated from its results
// file is checked with the others in bench-readme.test.ts).
import { describe, expect, it } from 'vitest';
import { comparison, percentile, renderTable, summarize, tallyKills, type CompareResult } from '../../bench/lib/compare-executor.js';

const latency = {
  executor: { alerts: 200, lost: 0, p50Ms: 10, p99Ms: 20, maxMs: 30 },
  medic: { alerts: 199, lost: 1, p50Ms: 40, p99Ms: 70, maxMs: 90 },
};
const sample: CompareResult = {
  date: '2026-12-04T22:00:00.000Z',
  machine: { cores: 2, cpu: 'Test CPU', loadBefore: '1.00, 1.00, 1.00', loadAfter: '2.00, 2.00, 2.00' },
  settings: { alertsPerSystem: 200, warmup: 10, delivery: 'real Alertmanager 0.25.0', killsPerSystem: 10, remediateDelayMs: 1500 },
  latency,
  kill: { executor: { kills: 10, lost: 1, doubled: 9, appliedTwice: 3 }, medic: { kills: 10, lost: 0, doubled: 10, appliedTwice: 0 } },
  ...comparison(latency),
};

describe('percentile', () => {
  it('is the nearest rank, whatever the input order', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3], 50)).toBe(2);
  });
  it('refuses an empty sample and p outside 0..100', () => {
    expect(() => percentile([], 50)).toThrow(/empty/);
    expect(() => percentile([1], 101)).toThrow(/0\.\.100/);
  });
});

describe('summarize and tallyKills', () => {
  it('rounds to 0.1 ms and keeps the count of lost alerts', () => {
    expect(summarize([1.04, 2.06, 3.01, 100.26], 2)).toEqual({ alerts: 4, lost: 2, p50Ms: 2.1, p99Ms: 100.3, maxMs: 100.3 });
  });
  it('counts lost (no arrival), doubled (two or more) and applied twice (distinct keys)', () => {
    expect(tallyKills([[], ['a'], ['b', 'b'], ['c', 'd'], ['e', 'e', 'f']])).toEqual({ kills: 5, lost: 1, doubled: 3, appliedTwice: 2 });
  });
});

describe('the table', () => {
  it('gives both systems, the ratios and whether the p99 goal (≤ 3×) is met', () => {
    const t = renderTable(sample);
    expect(t).toContain('2 cores (Test CPU)');
    expect(t).toContain('load before: 1.00, 1.00, 1.00');
    expect(t).toContain('| alert → action received, p50 | 10.0 ms | 40.0 ms | 4.00× |');
    expect(t).toContain('| alert → action received, p99 | 20.0 ms | 70.0 ms | 3.50× (goal ≤ 3×: NOT met) |');
    expect(t).toContain('| SIGKILL mid-action ×10/10: actions lost | 1 | 0 |  |');
    expect(t).toContain('| … applied twice (new Idempotency-Key) | 3 | 0 |  |');
    const faster = { ...latency, medic: { ...latency.medic, p99Ms: 60 } };
    expect(comparison(faster)).toEqual({ ratio: { p50: 4, p99: 3, max: 3 }, goal: { ratioP99: 3, met: true } });
    expect(renderTable({ ...sample, latency: faster, ...comparison(faster) })).toContain('3.00× (goal ≤ 3×: met)');
  });
});
