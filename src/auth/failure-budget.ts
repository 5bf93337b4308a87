import type { Request, Response } from 'express';

/** The failed-authentication budget of the client behind one request, around one token lookup. */
export interface FailureBudget {
  /** Answers 429 (throws) when the client already went over its budget; call before a lookup. */
  assertAllowed(): Promise<void>;
  /** Counts one failed authentication; answers 429 (throws) in its place when it is over the budget. */
  countFailure(): Promise<void>;
}

/**
 * Hands out failure budgets. Declared here and provided by ratelimit/ (AuthFailureLimiter), so
 * authentication depends on no limiter and the limiter may read the access rules.
 */
export interface FailureBudgets {
  forRequest(request: Request, response: Response): FailureBudget;
}

export const FAILURE_BUDGETS = Symbol('FailureBudgets');
