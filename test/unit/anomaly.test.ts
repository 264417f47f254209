// The anomaly detector on generated series with known injected anomalies: precision and recall
// are printed, and the false-positive rate on a clean noisy series must stay ≤ 1%.
import { describe, expect, it } from 'vitest';
import { allFiring, MadAnomalyDetector, ThresholdDetector, type AnomalyOptions } from '../../src/detect/algorithms.js';

/** Deterministic PRNG (mulberry32) + Box-Muller, so the test is reproducible. */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform() || 1e-12)) * Math.cos(2 * Math.PI * uniform());
}

const OPTS: AnomalyOptions = { window: 120, minHistory: 30, threshold: 6, consecutive: 2, direction: 'both' };

interface Injected {
  start: number;
  length: number;
}

function series(n: number, seed: number, anomalies: Injected[] = []): number[] {
  const noise = gaussian(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const daily = 10 * Math.sin((2 * Math.PI * i) / 1440); // slow seasonality
    let v = 200 + daily + 5 * noise();
    const hit = anomalies.find((a) => i >= a.start && i < a.start + a.length);
    if (hit) v += (hit.start % 2 === 0 ? 1 : -1) * 45; // ±9σ level shift
    out.push(v);
  }
  return out;
}

function run(values: number[]): boolean[] {
  const d = new MadAnomalyDetector(OPTS);
  return values.map((v) => d.push(v));
}

describe('MAD anomaly detector', () => {
  it('finds injected anomalies with high precision and recall', () => {
    const anomalies: Injected[] = [];
    for (let start = 300; start < 9_500; start += 457) anomalies.push({ start, length: 4 + (start % 5) });
    const firing = run(series(10_000, 42, anomalies));
    // event-level: an anomaly is found when the detector fires during it (or one sample after)
    const found = anomalies.filter((a) => firing.slice(a.start, a.start + a.length + 1).some(Boolean)).length;
    // firing episodes that overlap no anomaly are false alarms
    let episodes = 0;
    let falseAlarms = 0;
    for (let i = 0; i < firing.length; i++) {
      if (firing[i] && !firing[i - 1]) {
        episodes += 1;
        if (!anomalies.some((a) => i >= a.start && i <= a.start + a.length + 2)) falseAlarms += 1;
      }
    }
    const precision = (episodes - falseAlarms) / episodes;
    const recall = found / anomalies.length;
    console.log(`anomaly detector: ${anomalies.length} injected, ${found} found, ${episodes} firing episodes, ${falseAlarms} false alarms → precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}`);
    expect(recall).toBeGreaterThanOrEqual(0.95);
    expect(precision).toBeGreaterThanOrEqual(0.95);
  });

  it('false-positive rate on a clean noisy series is at most 1%', () => {
    const firing = run(series(20_000, 7));
    const rate = firing.filter(Boolean).length / firing.length;
    console.log(`anomaly detector: false-positive rate on 20000 clean samples ${(rate * 100).toFixed(3)}%`);
    expect(rate).toBeLessThanOrEqual(0.01);
  });

  it('gives no verdict before the minimum history', () => {
    const d = new MadAnomalyDetector(OPTS);
    const early = [200, 200, 5000, 5000, 5000].map((v) => d.push(v));
    expect(early).toEqual([false, false, false, false, false]);
  });

  it('keeps firing through a long incident instead of learning it as normal', () => {
    const values = [...series(200, 3), ...Array.from({ length: 200 }, () => 600)];
    const firing = run(values);
    expect(firing.slice(205)).toEqual(Array(195).fill(true));
  });
});

describe('threshold with for: and multi-signal', () => {
  it('fires after N consecutive breaches and clears after N calm samples', () => {
    const d = new ThresholdDetector('>', 0.05, 3);
    const out = [0.1, 0.1, 0.01, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01].map((v) => d.push(v));
    expect(out).toEqual([false, false, false, false, false, true, true, true, false]);
  });

  it('multi-signal fires only when all agree', () => {
    expect(allFiring([true, true])).toBe(true);
    expect(allFiring([true, false])).toBe(false);
    expect(allFiring([])).toBe(false);
  });
});
