import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { RateLimitClassName } from './rate-limit.decorator';
import { MemoryRateLimitStore, RateLimitStore, RedisRateLimitStore, WindowCount } from './rate-limit.store';

export interface RateLimitPolicy {
  limit: number;
  windowMs: number;
}

/** `300/60s` → 300 requests per 60 s; `0` → unlimited (null). */
export function parsePolicy(raw: string): RateLimitPolicy | null {
  if (raw === '0') return null;
  const [limit, seconds] = raw.split('/');
  return { limit: Number(limit), windowMs: Number(seconds.slice(0, -1)) * 1000 };
}

/**
 * What a limiter counts: a route class, or `auth-failures`, the failed authentications of one
 * client address (not a route class: it counts refusals on every route).
 */
export type RateLimitName = RateLimitClassName | 'auth-failures';

export interface RateLimitDecision {
  /** The IETF RateLimit and RateLimit-Policy headers (draft-ietf-httpapi-ratelimit-headers). */
  headers: Record<string, string>;
  /** Set when this request is over the limit: answer 429 with this Retry-After. */
  retryAfterSeconds?: number;
  detail?: string;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** `token:<sha256 prefix>` for bearer callers (the same key on every replica, no database read), `ip:<address>` for the rest. */
export function clientKey(authorization: string | undefined, address: string | undefined): string {
  const match = BEARER.exec(authorization ?? '');
  if (match) return tokenClientKey(createHash('sha256').update(match[1], 'utf8').digest('hex'));
  return `ip:${address ?? 'unknown'}`;
}

/** The client key of a token whose sha256 (hex) is already known. */
export function tokenClientKey(tokenSha256: string): string {
  return `token:${tokenSha256.slice(0, 32)}`;
}

/**
 * Counts a client's requests per route class in fixed windows, in Redis when REDIS_URL is set
 * (shared by every replica) or in memory. Used by the guard and by the resolve fast path, so
 * no request escapes its budget.
 */
@Injectable()
export class RateLimiter implements OnModuleDestroy {
  private readonly logger = new Logger('RateLimit');
  private readonly store: RateLimitStore | null;
  private readonly policies: Record<Exclude<RateLimitName, 'none'>, RateLimitPolicy | null>;
  private lastStoreWarning = 0;

  constructor(@Inject(WHARF_CONFIG) config: WharfConfig) {
    this.policies = {
      read: parsePolicy(config.RATE_LIMIT_READ),
      write: parsePolicy(config.RATE_LIMIT_WRITE),
      upload: parsePolicy(config.RATE_LIMIT_UPLOAD),
      download: parsePolicy(config.RATE_LIMIT_DOWNLOAD),
      agent: parsePolicy(config.RATE_LIMIT_AGENT),
      public: parsePolicy(config.RATE_LIMIT_PUBLIC),
      'auth-failures': parsePolicy(config.RATE_LIMIT_AUTH_FAILURES),
    };
    this.store = !config.RATE_LIMIT_ENABLED
      ? null
      : config.REDIS_URL
        ? new RedisRateLimitStore(config.REDIS_URL, config.RATE_LIMIT_REDIS_PREFIX)
        : new MemoryRateLimitStore();
  }

  async onModuleDestroy(): Promise<void> {
    await this.store?.close();
  }

  /** Counts one request; null when nothing limits it (disabled, unlimited class, store down). */
  async check(name: RateLimitName, client: string): Promise<RateLimitDecision | null> {
    const policy = this.policyOf(name);
    if (!policy || !this.store) return null;
    const window = await this.storeCall(() => this.store!.hit(`${name}:${client}`, policy.windowMs));
    return window ? this.decide(name, policy, window) : null;
  }

  /**
   * The client's standing in its current window without counting anything: refused when an
   * earlier request already went over. Null when nothing limits it or no window is open.
   */
  async peek(name: RateLimitName, client: string): Promise<RateLimitDecision | null> {
    const policy = this.policyOf(name);
    if (!policy || !this.store) return null;
    const window = await this.storeCall(() => this.store!.peek(`${name}:${client}`));
    return window ? this.decide(name, policy, window) : null;
  }

  /** Availability over strictness: with Redis down the registry keeps serving, unlimited. */
  private async storeCall(call: () => Promise<WindowCount | null>): Promise<WindowCount | null> {
    try {
      return await call();
    } catch (error) {
      if (Date.now() - this.lastStoreWarning > 10_000) {
        this.lastStoreWarning = Date.now();
        this.logger.warn(`rate limit store unavailable, not limiting: ${(error as Error).message}`);
      }
      return null;
    }
  }

  /**
   * The same count without waiting, when the counters are in this process; `undefined` when
   * they are in Redis and the caller must use `check`.
   */
  checkNow(name: RateLimitClassName, client: string): RateLimitDecision | null | undefined {
    const policy = this.policyOf(name);
    if (!policy || !this.store) return null;
    if (!(this.store instanceof MemoryRateLimitStore)) return undefined;
    return this.decide(name, policy, this.store.hitNow(`${name}:${client}`, policy.windowMs));
  }

  private policyOf(name: RateLimitName): RateLimitPolicy | null {
    return name === 'none' ? null : this.policies[name];
  }

  private decide(name: RateLimitName, policy: RateLimitPolicy, window: WindowCount): RateLimitDecision {
    const remaining = Math.max(0, policy.limit - window.count);
    const resetSeconds = Math.max(1, Math.ceil(window.resetMs / 1000));
    const decision: RateLimitDecision = {
      headers: {
        'RateLimit-Policy': `"${name}";q=${policy.limit};w=${policy.windowMs / 1000}`,
        RateLimit: `"${name}";r=${remaining};t=${resetSeconds}`,
      },
    };
    if (window.count > policy.limit) {
      decision.retryAfterSeconds = resetSeconds;
      const what = name === 'auth-failures' ? 'failed authentications' : `${name} requests`;
      decision.detail = `More than ${policy.limit} ${what} in ${policy.windowMs / 1000} s from this client; retry in ${resetSeconds} s`;
    }
    return decision;
  }
}
