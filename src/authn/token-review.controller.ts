import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Public } from '../auth/access.decorator';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { WharfError } from '../common/errors/wharf-error';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { AuthFailureLimiter } from '../ratelimit/auth-failures';
import { TokenReviewResponse } from './token-review';
import { TokenReviewService } from './token-review.service';

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

@ApiTags('authn')
@Controller('api/v1/authn')
export class TokenReviewController {
  private readonly callerDigest: Buffer | null;

  constructor(
    @Inject(TokenReviewService) private readonly reviews: TokenReviewService,
    @Inject(AuthFailureLimiter) private readonly failures: AuthFailureLimiter,
    @Inject(WHARF_CONFIG) config: WharfConfig,
  ) {
    this.callerDigest = config.TOKENREVIEW_BEARER_TOKEN ? sha256(config.TOKENREVIEW_BEARER_TOKEN) : null;
  }

  /**
   * Public to the access guard: kube-apiserver calls it, and the token under review is in the
   * body. It is served only with TOKENREVIEW_BEARER_TOKEN set, to a caller presenting that
   * token (the `user.token` of the webhook kubeconfig), compared in constant time: an open
   * TokenReview would tell anyone whether a guessed token is good. A wrong caller token and a
   * refused review both count against the caller's failed-authentication budget.
   */
  @Post('tokenreview')
  @HttpCode(200)
  @Public()
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Kubernetes webhook token authentication (TokenReview authentication.k8s.io/v1 and v1beta1)',
    description:
      'Answers in the apiVersion of the request. Invalid, expired or revoked tokens answer 200 with `status.authenticated: false`. ' +
      'Served only when TOKENREVIEW_BEARER_TOKEN is set (404 `tokenreview_disabled` otherwise); the caller (kube-apiserver) must send it as its bearer token. ' +
      'A wrong caller token and every refused review count against the caller address\'s failed-authentication budget (RATE_LIMIT_AUTH_FAILURES); over it, 429.',
  })
  @ApiBody({ schema: { example: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'wharf_…' } } } })
  @ApiOkResponse({
    schema: {
      example: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        status: {
          authenticated: true,
          user: { username: 'wharf:alice', uid: '6a8f…', groups: ['wharf:project:vision:editor'], extra: { 'wharf.dev/token-id': ['…'] } },
        },
      },
    },
  })
  @ApiProblems('validation_failed', 'unauthenticated', 'tokenreview_disabled', 'rate_limited')
  async review(@Req() request: Request, @Res({ passthrough: true }) response: Response, @Body() body: unknown): Promise<TokenReviewResponse> {
    if (!this.callerDigest) {
      throw new WharfError('tokenreview_disabled', 'This registry does not serve TokenReview: TOKENREVIEW_BEARER_TOKEN is not set');
    }
    const budget = this.failures.forRequest(request, response);
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!presented || !timingSafeEqual(sha256(presented), this.callerDigest)) {
      await budget.assertAllowed();
      await budget.countFailure();
      throw new WharfError('unauthenticated', 'The TokenReview caller must present the configured bearer token');
    }
    return this.reviews.review(body, budget);
  }
}
