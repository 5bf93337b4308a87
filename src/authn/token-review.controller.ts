import { Body, Controller, Headers, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Public } from '../auth/access.decorator';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { WharfError } from '../common/errors/wharf-error';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { TokenReviewResponse } from './token-review';
import { TokenReviewService } from './token-review.service';

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

@ApiTags('authn')
@Controller('api/v1/authn')
export class TokenReviewController {
  private readonly callerDigest: Buffer | null;

  constructor(
    @Inject(TokenReviewService) private readonly reviews: TokenReviewService,
    @Inject(WHARF_CONFIG) config: WharfConfig,
  ) {
    this.callerDigest = config.TOKENREVIEW_BEARER_TOKEN ? sha256(config.TOKENREVIEW_BEARER_TOKEN) : null;
  }

  /**
   * Public to the access guard: kube-apiserver calls it, and the token under review is in
   * the body. With TOKENREVIEW_BEARER_TOKEN set, the caller must present that bearer token
   * (the `user.token` of the webhook kubeconfig), compared in constant time.
   */
  @Post('tokenreview')
  @HttpCode(200)
  @Public()
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Kubernetes webhook token authentication (TokenReview authentication.k8s.io/v1 and v1beta1)',
    description:
      'Answers in the apiVersion of the request. Invalid, expired or revoked tokens answer 200 with `status.authenticated: false`. ' +
      'With TOKENREVIEW_BEARER_TOKEN set, the caller (kube-apiserver) must send it as its bearer token.',
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
  @ApiProblems('validation_failed', 'unauthenticated')
  review(@Headers('authorization') authorization: string | undefined, @Body() body: unknown): Promise<TokenReviewResponse> {
    if (this.callerDigest) {
      const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
      if (!presented || !timingSafeEqual(sha256(presented), this.callerDigest)) {
        throw new WharfError('unauthenticated', 'The TokenReview caller must present the configured bearer token');
      }
    }
    return this.reviews.review(body);
  }
}
