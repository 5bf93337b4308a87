import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { FailureBudget, FailureBudgets } from '../auth/failure-budget';
import { refuseWhenLimited } from './rate-limit.guard';
import { RateLimiter } from './rate-limiter';

/**
 * Failed authentications per client address (RATE_LIMIT_AUTH_FAILURES). The ordinary limits
 * key a bearer caller on its token, so a client guessing tokens is a new client with every
 * guess; only its address ties the guesses together. Tokens already verified (in the
 * in-process cache) never ask, so a client sharing an address with a guesser keeps working
 * with the tokens it uses, and a valid token costs no extra round trip.
 */
@Injectable()
export class AuthFailureLimiter implements FailureBudgets {
  constructor(@Inject(RateLimiter) private readonly limiter: RateLimiter) {}

  forRequest(request: Request, response: Response): FailureBudget {
    // request.ip follows TRUST_PROXY (X-Forwarded-For from trusted proxies only).
    const client = `ip:${request.ip ?? request.socket.remoteAddress ?? 'unknown'}`;
    return {
      assertAllowed: async () => refuseWhenLimited(response, await this.limiter.peek('auth-failures', client)),
      countFailure: async () => refuseWhenLimited(response, await this.limiter.check('auth-failures', client)),
    };
  }
}
