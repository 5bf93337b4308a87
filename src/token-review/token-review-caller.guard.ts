import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { FAILURE_BUDGETS, FailureBudgets } from '../auth/failure-budget';
import { WharfError } from '../common/errors/wharf-error';
import { WHARF_CONFIG, WharfConfig } from '../config/config';

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Lets only kube-apiserver ask for TokenReviews. The route is public to the access guard (the
 * token under review is in the body), so it is served only with TOKENREVIEW_BEARER_TOKEN set,
 * to a caller presenting that token (the `user.token` of the webhook kubeconfig), compared in
 * constant time: an open TokenReview would tell anyone whether a guessed token is good. A
 * wrong caller token counts against the caller's failed-authentication budget.
 */
@Injectable()
export class TokenReviewCallerGuard implements CanActivate {
  private readonly callerDigest: Buffer | null;

  constructor(
    @Inject(FAILURE_BUDGETS) private readonly failures: FailureBudgets,
    @Inject(WHARF_CONFIG) config: WharfConfig,
  ) {
    this.callerDigest = config.TOKENREVIEW_BEARER_TOKEN ? sha256(config.TOKENREVIEW_BEARER_TOKEN) : null;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.callerDigest) {
      throw new WharfError('tokenreview_disabled', 'This registry does not serve TokenReview: TOKENREVIEW_BEARER_TOKEN is not set');
    }
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!presented || !timingSafeEqual(sha256(presented), this.callerDigest)) {
      const budget = this.failures.forRequest(request, http.getResponse<Response>());
      await budget.assertAllowed();
      await budget.countFailure();
      throw new WharfError('unauthenticated', 'The TokenReview caller must present the configured bearer token');
    }
    return true;
  }
}
