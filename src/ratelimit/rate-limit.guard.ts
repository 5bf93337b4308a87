import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { ACCESS_METADATA, AccessRule } from '../auth/access.decorator';
import { WharfRequest } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { RATE_LIMIT_METADATA, RateLimitClassName } from './rate-limit.decorator';
import { clientKey, RateLimitDecision, RateLimiter } from './rate-limiter';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Per-client rate limits on every route. Registered before the access guard, so a client over
 * its limit is refused before any token lookup. (A flood of bad tokens is a new client per
 * token here; the access guard limits it by address, see AuthFailureLimiter.)
 * Answers 429 with Retry-After; every limited route carries RateLimit / RateLimit-Policy.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(RateLimiter) private readonly limiter: RateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<WharfRequest>();
    const decision = await this.limiter.check(
      this.routeClass(context, request.method),
      clientKey(request.headers.authorization, request.ip ?? request.socket.remoteAddress),
    );
    if (!decision) return true;
    const response = context.switchToHttp().getResponse<Response>();
    for (const [name, value] of Object.entries(decision.headers)) response.setHeader(name, value);
    refuseWhenLimited(response, decision);
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

/** Answers 429 (throws) with Retry-After and the decision's RateLimit headers when it refuses. */
export function refuseWhenLimited(response: Response, decision: RateLimitDecision | null): void {
  if (decision?.retryAfterSeconds === undefined) return;
  for (const [name, value] of Object.entries(decision.headers)) response.setHeader(name, value);
  response.setHeader('Retry-After', String(decision.retryAfterSeconds));
  throw new WharfError('rate_limited', decision.detail!, { retryAfter: decision.retryAfterSeconds });
}
