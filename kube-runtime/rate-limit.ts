/**
 * The two limits a controller puts on retries, in client-go's shape (workqueue's
 * DefaultControllerRateLimiter): each key backs off exponentially on its own, and all retries
 * together share one token bucket, so a storm of failing keys cannot hammer the apiserver or the
 * registry. A retry waits for whichever of the two is later.
 */
export type Clock = () => number;

/** Per-key exponential backoff: base × 2^(failures − 1), capped. Forgetting a key resets it. */
export class ExponentialBackoff {
  private readonly failures = new Map<string, number>();

  constructor(
    readonly baseMs = 5,
    readonly maxMs = 1_000_000,
  ) {
    if (!(baseMs > 0) || !(maxMs >= baseMs)) throw new RangeError(`backoff needs 0 < base (${baseMs}) ≤ max (${maxMs})`);
  }

  /** Records one more failure of KEY and returns how long to wait before its next try. */
  next(key: string): number {
    const count = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, count);
    // 2^count overflows to Infinity long after the cap is reached; min() keeps it finite.
    return Math.min(this.maxMs, this.baseMs * 2 ** (count - 1));
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}

/**
 * A token bucket that reserves rather than refuses: reserve() always takes a token, possibly one
 * that will only exist in the future, and says how long to wait for it (golang.org/x/time/rate's
 * Reserve). So N retries at once are spread out at RATE per second after the first BURST.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly ratePerSecond = 10,
    readonly burst = 100,
    private readonly now: Clock = Date.now,
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new RangeError(`token bucket needs rate > 0 (${ratePerSecond}) and burst ≥ 1 (${burst})`);
    this.tokens = burst;
    this.updatedAt = now();
  }

  /** Takes one token; returns the milliseconds until it is really available (0: now). */
  reserve(): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
    this.updatedAt = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.ratePerSecond) * 1000);
  }
}

export interface RetryLimiterOptions {
  baseMs?: number;
  maxMs?: number;
  ratePerSecond?: number;
  burst?: number;
  now?: Clock;
}

/** The later of a key's own backoff and the shared bucket's wait. */
export class RetryLimiter {
  readonly backoff: ExponentialBackoff;
  readonly bucket: TokenBucket;

  constructor(options: RetryLimiterOptions = {}) {
    this.backoff = new ExponentialBackoff(options.baseMs, options.maxMs);
    this.bucket = new TokenBucket(options.ratePerSecond, options.burst, options.now);
  }

  when(key: string): number {
    return Math.max(this.backoff.next(key), this.bucket.reserve());
  }

  retries(key: string): number {
    return this.backoff.retries(key);
  }

  forget(key: string): void {
    this.backoff.forget(key);
  }
}
