import { Body, Controller, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/access.decorator';
import { FAILURE_BUDGETS, FailureBudgets } from '../auth/failure-budget';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { TokenReviewResponse } from './token-review';
import { TokenReviewCallerGuard } from './token-review-caller.guard';
import { TokenReviewService } from './token-review.service';

@ApiTags('authn')
@Controller('api/v1/authn')
export class TokenReviewController {
  constructor(
    @Inject(TokenReviewService) private readonly reviews: TokenReviewService,
    @Inject(FAILURE_BUDGETS) private readonly failures: FailureBudgets,
  ) {}

  /**
   * Public to the access guard: kube-apiserver calls it, and the token under review is in the
   * body; TokenReviewCallerGuard checks the caller. A refused review counts against the
   * caller's failed-authentication budget like a wrong caller token.
   */
  @Post('tokenreview')
  @HttpCode(200)
  @Public()
  @UseGuards(TokenReviewCallerGuard)
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
    return this.reviews.review(body, this.failures.forRequest(request, response));
  }
}
