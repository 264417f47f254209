// Token buckets: the stand-in uses them to answer 429 like Slack, medic uses the same shape to
// pace itself so it rarely sees one. `clock` is injectable so tests need not sleep.
export interface BucketSpec {
  /** Calls allowed back to back before pacing kicks in (Slack permits short bursts). */
  burst: number;
  /** Sustained rate. */
  perSecond: number;
}

export class Buckets {
  private readonly state = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly spec: BucketSpec,
    private readonly clock: () => number = Date.now,
  ) {}

  private refill(key: string): { tokens: number; at: number } {
    const now = this.clock();
    const b = this.state.get(key) ?? { tokens: this.spec.burst, at: now };
    b.tokens = Math.min(this.spec.burst, b.tokens + ((now - b.at) / 1000) * this.spec.perSecond);
    b.at = now;
    this.state.set(key, b);
    return b;
  }

  /** Takes a token now, or returns how many ms until one is available (nothing taken). */
  tryTake(key: string): number {
    const b = this.refill(key);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / this.spec.perSecond) * 1000);
  }
}

/** Medic's outgoing side: waits for a token, callers for one key served in arrival order. */
export class Pacer {
  private readonly buckets: Buckets;
  private readonly tails = new Map<string, Promise<void>>();
  constructor(spec: BucketSpec) {
    this.buckets = new Buckets(spec);
  }

  take(key: string): Promise<void> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(async () => {
      for (let wait = this.buckets.tryTake(key); wait > 0; wait = this.buckets.tryTake(key)) {
        await new Promise((r) => setTimeout(r, wait));
      }
    });
    this.tails.set(key, next);
    return next;
  }
}
