import { CanActivate, ExecutionContext, Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { createHash } from 'node:crypto';
import { ACCESS_METADATA, AccessRule } from '../auth/access.decorator';
import { WharfRequest } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { RATE_LIMIT_METADATA, RateLimitClassName } from './rate-limit.decorator';
import { MemoryRateLimitStore, RateLimitStore, RedisRateLimitStore } from './rate-limit.store';

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

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Per-client rate limits. The client is its bearer token (a digest of it, so the same key on
 * every replica without a database read), or its IP address when it sends none. Registered
 * before the access guard, so a client over its limit is refused before any token lookup,
 * and floods of bad tokens are limited too. Answers 429 with Retry-After and the IETF
 * RateLimit / RateLimit-Policy headers (draft-ietf-httpapi-ratelimit-headers).
 */
@Injectable()
export class RateLimitGuard implements CanActivate, OnModuleDestroy {
  private readonly logger = new Logger('RateLimit');
  private readonly store: RateLimitStore | null;
  private readonly policies: Record<Exclude<RateLimitClassName, 'none'>, RateLimitPolicy | null>;
  private lastStoreWarning = 0;

  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(WHARF_CONFIG) config: WharfConfig,
  ) {
    this.policies = {
      read: parsePolicy(config.RATE_LIMIT_READ),
      write: parsePolicy(config.RATE_LIMIT_WRITE),
      upload: parsePolicy(config.RATE_LIMIT_UPLOAD),
      public: parsePolicy(config.RATE_LIMIT_PUBLIC),
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

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.store || context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<WharfRequest>();
    const name = this.routeClass(context, request.method);
    if (name === 'none') return true;
    const policy = this.policies[name];
    if (!policy) return true;

    let window;
    try {
      window = await this.store.hit(`${name}:${clientKey(request)}`, policy.windowMs);
    } catch (error) {
      // Availability over strictness: with Redis down the registry keeps serving.
      if (Date.now() - this.lastStoreWarning > 10_000) {
        this.lastStoreWarning = Date.now();
        this.logger.warn(`rate limit store unavailable, not limiting: ${(error as Error).message}`);
      }
      return true;
    }
    const remaining = Math.max(0, policy.limit - window.count);
    const resetSeconds = Math.max(1, Math.ceil(window.resetMs / 1000));
    const response = context.switchToHttp().getResponse<Response>();
    response.setHeader('RateLimit-Policy', `"${name}";q=${policy.limit};w=${policy.windowMs / 1000}`);
    response.setHeader('RateLimit', `"${name}";r=${remaining};t=${resetSeconds}`);
    if (window.count > policy.limit) {
      response.setHeader('Retry-After', String(resetSeconds));
      throw new WharfError(
        'rate_limited',
        `More than ${policy.limit} ${name} requests in ${policy.windowMs / 1000} s from this client; retry in ${resetSeconds} s`,
        { retryAfter: resetSeconds },
      );
    }
    return true;
  }

  private routeClass(context: ExecutionContext, method: string): RateLimitClassName {
    const targets = [context.getHandler(), context.getClass()];
    const declared = this.reflector.getAllAndOverride<RateLimitClassName | undefined>(RATE_LIMIT_METADATA, targets);
    if (declared) return declared;
    if (this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, targets)?.kind === 'public') return 'public';
    return READ_METHODS.has(method.toUpperCase()) ? 'read' : 'write';
  }
}

/** `token:<sha256 prefix>` for bearer callers, `ip:<address>` for the rest. */
export function clientKey(request: WharfRequest): string {
  const match = BEARER.exec(request.headers.authorization ?? '');
  if (match) return `token:${createHash('sha256').update(match[1], 'utf8').digest('hex').slice(0, 32)}`;
  return `ip:${request.ip ?? request.socket.remoteAddress ?? 'unknown'}`;
}
