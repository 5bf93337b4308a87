/**
 * Per-client token buckets: each client (a principal, or an address when anonymous) may make
 * `burst` requests at once and `perSecond` on average. Answers how long to wait when refused, for
 * Retry-After. Buckets of idle clients are dropped so a scan of many addresses cannot grow memory.
 */
export interface RatePolicy {
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class ClientRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxClients: number;

  constructor(
    private readonly policy: RatePolicy,
    private readonly now: () => number = () => performance.now(),
    maxClients = 100_000,
  ) {
    this.maxClients = maxClients;
  }

  take(client: string): RateDecision {
    const now = this.now();
    let bucket = this.buckets.get(client);
    if (!bucket) {
      if (this.buckets.size >= this.maxClients) this.sweep(now);
      bucket = { tokens: this.policy.burst, updatedAt: now };
      this.buckets.set(client, bucket);
    } else {
      const refill = ((now - bucket.updatedAt) / 1000) * this.policy.perSecond;
      bucket.tokens = Math.min(this.policy.burst, bucket.tokens + refill);
      bucket.updatedAt = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    const missing = 1 - bucket.tokens;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(missing / this.policy.perSecond)) };
  }

  /** Full buckets carry no information: forget them; if all are in use, forget the oldest half. */
  private sweep(now: number): void {
    for (const [client, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.policy.perSecond >= this.policy.burst) this.buckets.delete(client);
    }
    if (this.buckets.size < this.maxClients) return;
    let drop = Math.floor(this.buckets.size / 2);
    for (const client of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(client);
    }
  }
}
