import Redis from 'ioredis';

export interface WindowCount {
  /** Requests counted in the current window, this one included. */
  count: number;
  /** Milliseconds until the window ends and the count starts again. */
  resetMs: number;
}

/** A fixed-window counter: the window starts with a client's first request in it. */
export interface RateLimitStore {
  hit(key: string, windowMs: number): Promise<WindowCount>;
  /** The current window's count without adding to it; null when no window is open. */
  peek(key: string): Promise<WindowCount | null>;
  close(): Promise<void>;
}

/** One process's counters; used when REDIS_URL is not set. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private lastSweep = 0;

  async hit(key: string, windowMs: number, now = Date.now()): Promise<WindowCount> {
    return this.hitNow(key, windowMs, now);
  }

  /** The same count without a promise, for the hot path. */
  hitNow(key: string, windowMs: number, now = Date.now()): WindowCount {
    this.sweep(now);
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count += 1;
    return { count: window.count, resetMs: window.resetAt - now };
  }

  async peek(key: string, now = Date.now()): Promise<WindowCount | null> {
    const window = this.windows.get(key);
    return window && window.resetAt > now ? { count: window.count, resetMs: window.resetAt - now } : null;
  }

  async close(): Promise<void> {
    this.windows.clear();
  }

  /** Drops ended windows now and then, so idle clients do not accumulate. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 10_000) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}

/**
 * INCR and PEXPIRE in one script, so every replica counts into the same window atomically and
 * a window always gets its expiry (no key is left without a TTL between two commands).
 */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

/** GET and PTTL in one script, so the count and its expiry belong to the same window. */
const PEEK_SCRIPT = `
local count = redis.call('GET', KEYS[1])
if not count then return nil end
return {tonumber(count), redis.call('PTTL', KEYS[1])}`;

/** Counters shared by every replica through Redis. */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: Redis & {
    wharfHit?: (key: string, windowMs: number) => Promise<[number, number]>;
    wharfPeek?: (key: string) => Promise<[number, number] | null>;
  };

  constructor(url: string, private readonly prefix: string) {
    this.redis = new Redis(url, {
      // A rate limiter must not queue requests behind a dead Redis: fail fast, the guard lets
      // the request through and logs.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 500,
      lazyConnect: false,
    });
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('wharfHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.redis.defineCommand('wharfPeek', { numberOfKeys: 1, lua: PEEK_SCRIPT });
  }

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    const [count, ttl] = await this.redis.wharfHit!(`${this.prefix}${key}`, windowMs);
    return { count: Number(count), resetMs: Number(ttl) };
  }

  async peek(key: string): Promise<WindowCount | null> {
    const found = await this.redis.wharfPeek!(`${this.prefix}${key}`);
    return found && Number(found[1]) > 0 ? { count: Number(found[0]), resetMs: Number(found[1]) } : null;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
