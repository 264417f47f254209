// The README's performance section is generated from bench/results/*.json (bench/lib/readme.ts):
// each block is its results file's rendering, every number in it is one of the file's, every
// results file has its block, and a block without its file carries no figure.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCH_NAMES, foreignNumbers, numbersIn, numbersOf, placeholder, readmeBlocks, readResult, regenerate, renderBlock, type BenchName } from '../../bench/lib/readme.js';
import { CapacityResultSchema, StormResultSchema, type ApprovalResult, type CapacityResult, type DrillOverheadResult, type LatencyResult, type StormResult } from '../../bench/lib/results.js';
import { ROOT } from '../support/paths.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const blocks = readmeBlocks(readme);
const resultFiles = readdirSync(join(ROOT, 'bench/results')).filter((f) => f.endsWith('.json'));

describe('README performance section (generated from bench/results)', () => {
  it('has one block per bench, and every results file is a known bench with its block', () => {
    expect(blocks.map((b) => b.name).sort()).toEqual([...BENCH_NAMES].sort());
    for (const f of resultFiles) expect(BENCH_NAMES, `bench/results/${f} is no known bench`).toContain(f.replace(/\.json$/, ''));
  });

  for (const name of BENCH_NAMES) {
    it(`${name}: the block is the rendering of bench/results/${name}.json, and each of its numbers is the file's`, () => {
      const body = blocks.find((b) => b.name === name)?.body;
      const result = readResult(ROOT, name);
      expect(body).toBe(renderBlock(name, result));
      if (result === undefined) {
        expect(existsSync(join(ROOT, 'bench/results', `${name}.json`))).toBe(false);
        expect(numbersIn(body!)).toEqual([]);
        return;
      }
      expect(numbersIn(body!).length).toBeGreaterThan(5);
      expect(foreignNumbers(body!, numbersOf(result))).toEqual([]);
    });
  }
});

describe('the numbers check', () => {
  it('reads numbers as written, not parts of words (p99) or versions (0.25.0)', () => {
    expect(numbersIn('p99 78.0 ms · 16.06× · v2 · Alertmanager 0.25.0 · ×10/10 · load 1.5, 2')).toEqual(['78.0', '16.06', '10', '10', '1.5', '2']);
  });
  it('takes a number the file has at the precision written, and flags one it does not', () => {
    const file = { p99Ms: 78, ratio: 6.8612, load: '16.61, 17.61', rss: 957.4 };
    expect(foreignNumbers('78.0 ms, 6.86×, 16.61, 957 MiB', numbersOf(file))).toEqual([]);
    expect(foreignNumbers('78.1 ms, 6.7×, 958 MiB, 3, 16.6', numbersOf(file))).toEqual(['78.1', '6.7', '958', '3', '16.6']);
  });
});

const machine = { cores: 2, cpu: 'Test CPU', loadBefore: '1.00, 1.10, 1.20', loadAfter: '2.00, 2.10, 2.20' };
const d = (p50Ms: number, p99Ms: number, maxMs: number) => ({ n: 50, p50Ms, p99Ms, maxMs });
const samples: Record<Exclude<BenchName, 'compare-executor'>, LatencyResult | ApprovalResult | StormResult | CapacityResult | DrillOverheadResult> = {
  latency: {
    date: '2026-12-05T04:00:00.000Z',
    machine,
    settings: { n: 50, warmup: 20 },
    rows: [
      { configuration: 'dev server, SQLite file', durable: true, floor: d(40, 55, 60), medic: d(45, 70, 80), ratioP99: 1.27 },
      { configuration: 'floor only, local activity', durable: true, floor: d(12, 31, 33) },
    ],
    breakdown: [{ phase: 'signalWithStart RPC', p50Ms: 4.2, p99Ms: 9.8 }],
    goal: { p99Ms: 60, configuration: 'dev server, SQLite file', met: false },
  },
  approval: {
    date: '2026-12-05T04:00:00.000Z',
    machine,
    settings: { n: 50 },
    configuration: 'adopted',
    floor: d(13.5, 27.5, 30.5),
    click: d(94.5, 140.25, 217.5),
    ratioP99: 5.1,
    others: [{ configuration: 'before', floor: d(16.5, 36.5, 41.5), click: d(104.5, 230.25, 297.5), ratioP99: 6.31 }],
    goal: { p99Ms: 150, met: true },
  },
  storm: {
    date: '2026-12-05T04:00:00.000Z',
    machine,
    complete: true,
    settings: { seconds: 10, rates: '100, 300' },
    intakeP99LimitMs: 1000,
    points: [
      { shape: 'single', alertsPerPost: 1, offered: 100, accepted: 99, p50Ms: 12.3, p99Ms: 480.2, refused: 0, lost: 0, unaccounted: 0, appliedAfterSeconds: 0.7, load1: 1.05, sustained: true, p99UnderLimit: true },
      { shape: 'batched', alertsPerPost: 100, offered: 300, accepted: 150, p50Ms: 800.5, p99Ms: 2400, refused: 40, lost: 0, unaccounted: 3, appliedAfterSeconds: 12.4, load1: 1.45, sustained: false, p99UnderLimit: false },
    ],
    knees: { single: 100, batched: null },
  },
  capacity: {
    date: '2026-12-05T04:00:00.000Z',
    machine,
    settings: { maxCachedWorkflows: 250 },
    incidents: 10000,
    workerProcesses: 1,
    openedSeconds: 301.4,
    callsMadeAgain: 0,
    workers: [{ name: 'worker-1', idleMiB: 440, waitingMiB: 901.6, peakMiB: 950 }],
    approveSeconds: 400.2,
    drainSeconds: 612.2,
    resolved: 10000,
    lost: 0,
    appliedTwice: 0,
    goal: { rssMiB: 1024, met: true },
  },
  'drill-overhead': {
    date: '2026-12-05T04:00:00.000Z',
    machine,
    settings: { runs: 1 },
    runs: [{ scenario: 'demo-outage', detectToHealedSeconds: 2.71, actionSeconds: 0.012, verificationSeconds: 1.54, overheadSeconds: 1.158, largestGap: 'alert.opened → gate.passed 0.41 s' }],
    overheadP50Seconds: 1.158,
    overheadMaxSeconds: 1.158,
    goal: { overheadSeconds: 2, met: true },
  },
};

describe('rendering each bench', () => {
  for (const [name, sample] of Object.entries(samples) as [BenchName, unknown][]) {
    it(`${name}: shows the machine, its load and the figures, each number one of the result's`, () => {
      const text = renderBlock(name, sample);
      expect(text).toContain('2 cores (Test CPU) · load before: 1.00, 1.10, 1.20 · after: 2.00, 2.10, 2.20');
      expect(text).toMatch(/\| --- \|/);
      expect(text).toMatch(/: (met|NOT met)|knee/);
      expect(foreignNumbers(text, numbersOf(sample))).toEqual([]);
    });
  }
  it('storm: a partial run says so and gives no knee; capacity: an incomplete run shows its reason and "—" for what it did not reach', () => {
    const storm = renderBlock('storm', { ...samples.storm, complete: false, knees: undefined });
    expect(storm).toMatch(/^\*\*Partial run\*\*/);
    expect(storm).toContain('single —; batched —');
    expect(renderBlock('storm', samples.storm)).toContain('single 100/s; batched none sustained');
    const capacity = { date: '2026-12-05T04:00:00.000Z', machine, settings: {}, incidents: 400, workerProcesses: 2, incomplete: 'deadline (13 min) passed', workers: [{ name: 'worker1', peakMiB: 1398 }], lost: null, goal: { rssMiB: 1024, met: false } };
    const text = renderBlock('capacity', capacity);
    expect(text).toMatch(/^\*\*Incomplete run\*\*: deadline \(13 min\) passed/);
    expect(text).toContain('| 400 | 2 | — | — | — | — | — | — | — |');
    expect(text).toContain('| worker1 | — | — | 1398 MiB | no |');
    expect(text).toContain('NOT met');
    expect(foreignNumbers(text, numbersOf(capacity))).toEqual([]);
  });
  it('a storm or capacity result missing a figure is refused, naming the field', () => {
    const { lost: _lost, ...noLost } = samples.capacity as CapacityResult;
    const paths = (r: { error?: { issues: { path: PropertyKey[] }[] } }): string[] => r.error?.issues.map((i) => i.path.join('.')) ?? [];
    expect(paths(CapacityResultSchema.safeParse(noLost))).toEqual(['lost']);
    const s = samples.storm as StormResult;
    expect(paths(StormResultSchema.safeParse({ ...s, points: [{ ...s.points[0], p99Ms: undefined }] }))).toEqual(['points.0.p99Ms']);
  });
  it('regenerates only the named blocks, and refuses a block naming no bench', () => {
    const text = 'a\n<!-- bench:approval -->\nold 1\n<!-- /bench:approval -->\nb\n<!-- bench:storm (x) -->\nold 2\n<!-- /bench:storm -->\n';
    const out = regenerate(text, (n) => (n === 'approval' ? samples.approval : undefined), ['approval']);
    expect(readmeBlocks(out)).toEqual([
      { name: 'approval', body: renderBlock('approval', samples.approval) },
      { name: 'storm', body: 'old 2' },
    ]);
    expect(readmeBlocks(regenerate(out, () => undefined))[1]).toEqual({ name: 'storm', body: placeholder('storm') });
    expect(() => regenerate('<!-- bench:nope -->\n<!-- /bench:nope -->', () => undefined)).toThrow(/bench:nope names no bench/);
  });
});
