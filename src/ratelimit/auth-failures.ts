import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { refuseWhenLimited } from './rate-limit.guard';
import { RateLimiter } from './rate-limiter';

/** The failed-authentication budget of the client behind one request, around one token lookup. */
export interface FailureBudget {
  /** Answers 429 (throws) when the client already went over its budget; call before a lookup. */
  assertAllowed(): Promise<void>;
  /** Counts one failed authentication; answers 429 (throws) in its place when it is over the budget. */
  countFailure(): Promise<void>;
}

/**
 * Failed authentications per client address (RATE_LIMIT_AUTH_FAILURES). The ordinary limits
 * key a bearer caller on its token, so a client guessing tokens is a new client with every
 * guess; only its address ties the guesses together. Tokens already verified (in the
 * in-process cache) never ask, so a client sharing an address with a guesser keeps working
 * with the tokens it uses, and a valid token costs no extra round trip.
 */
@Injectable()
export class AuthFailureLimiter {
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
