// Detection algorithms, pure and incremental: each takes one sample at a time and says whether
// the signal is firing. Used by the detector runner against Prometheus and by the tests on
// generated series.

/** Threshold with `for`: fires after N consecutive breaches, clears after N consecutive non-breaches. */
export class ThresholdDetector {
  private breaches = 0;
  private clears = 0;
  firing = false;

  constructor(
    private readonly op: '>' | '<',
    private readonly threshold: number,
    private readonly consecutive: number,
  ) {}

  push(value: number): boolean {
    const breach = this.op === '>' ? value > this.threshold : value < this.threshold;
    if (breach) {
      this.breaches += 1;
      this.clears = 0;
      if (this.breaches >= this.consecutive) this.firing = true;
    } else {
      this.clears += 1;
      this.breaches = 0;
      if (this.clears >= this.consecutive) this.firing = false;
    }
    return this.firing;
  }
}

export interface AnomalyOptions {
  /** Trailing samples forming the baseline. */
  window: number;
  /** No verdict before this many samples: a new series has no baseline yet. */
  minHistory: number;
  /** Robust z-score (median/MAD) beyond which a sample is anomalous. */
  threshold: number;
  /** Consecutive anomalous samples before firing (hysteresis against single blips). */
  consecutive: number;
  direction: 'up' | 'down' | 'both';
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Median-absolute-deviation detector: robust to the outliers it is looking for, unlike a
 * mean/stddev baseline that an anomaly itself inflates. */
export class MadAnomalyDetector {
  private readonly history: number[] = [];
  private streak = 0;
  private calm = 0;
  firing = false;
  lastScore = 0;

  constructor(private readonly o: AnomalyOptions) {}

  push(value: number): boolean {
    if (this.history.length >= this.o.minHistory) {
      const m = median(this.history);
      const mad = median(this.history.map((x) => Math.abs(x - m)));
      // A flat baseline has MAD 0; a tiny floor relative to the level keeps the score finite.
      const scale = Math.max(mad, Math.abs(m) * 1e-6, 1e-12);
      this.lastScore = (0.6745 * (value - m)) / scale;
      const anomalous =
        this.o.direction === 'up'
          ? this.lastScore > this.o.threshold
          : this.o.direction === 'down'
            ? this.lastScore < -this.o.threshold
            : Math.abs(this.lastScore) > this.o.threshold;
      if (anomalous) {
        this.streak += 1;
        this.calm = 0;
        if (this.streak >= this.o.consecutive) this.firing = true;
      } else {
        this.calm += 1;
        this.streak = 0;
        if (this.calm >= this.o.consecutive) this.firing = false;
      }
      // Anomalous samples stay out of the baseline, so a long incident does not become normal.
      if (anomalous) return this.firing;
    }
    this.history.push(value);
    if (this.history.length > this.o.window) this.history.shift();
    return this.firing;
  }
}

/** Multi-signal: fires only while every member fires (two signals must agree). */
export function allFiring(states: boolean[]): boolean {
  return states.length > 0 && states.every(Boolean);
}
