// Token buckets per intake source (a credential, a remote address): each holds up to `burst`
// tokens, refilled at `ratePerSecond`; a request takes one or is refused with the seconds until
// one is back (the 429's Retry-After). The map of buckets is bounded: the least recently seen
// source is forgotten first and comes back with a full bucket. Rotating remote addresses to get
// evicted buckets refilled does not help a sender: its credential has a bucket of its own.
export type Take = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly o: { ratePerSecond: number; burst: number; maxSources: number },
    private readonly now: () => number = Date.now,
  ) {}

  take(source: string): Take {
    const now = this.now();
    const prev = this.buckets.get(source);
    const elapsed = prev ? Math.max(0, now - prev.at) / 1000 : 0;
    const tokens = prev ? Math.min(this.o.burst, prev.tokens + elapsed * this.o.ratePerSecond) : this.o.burst;
    // Re-insert: Map keeps insertion order, so the first key is the least recently seen.
    this.buckets.delete(source);
    if (tokens >= 1) {
      this.buckets.set(source, { tokens: tokens - 1, at: now });
      this.evict();
      return { ok: true };
    }
    this.buckets.set(source, { tokens, at: now });
    this.evict();
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.o.ratePerSecond)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private evict(): void {
    while (this.buckets.size > this.o.maxSources) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) return;
      this.buckets.delete(oldest);
    }
  }
}
