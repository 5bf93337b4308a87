import { Body, Controller, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Public } from '../auth/access.decorator';
import { WharfError } from '../common/errors/wharf-error';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { AuthFailureLimiter } from '../ratelimit/auth-failures';
import { ExtenderFilterResult, HostPriority } from './extender-api';
import { SchedulerService } from './scheduler.service';

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

const FILTER_DOC = {
  summary: 'kube-scheduler extender filter (ExtenderArgs → ExtenderFilterResult, nodeCacheCapable)',
  description:
    'Nodes without a ready Wharf agent, or without cache budget for the pod\'s version (annotation wharf.dev/model-version), fail with a reason; ' +
    'with wharf.dev/cache-policy: require only nodes holding it ready pass (unless none does). See docs/scheduling.md.',
};
const FILTER_RESULT = {
  schema: {
    type: 'object',
    example: { NodeNames: ['gpu-a'], FailedNodes: { 'gpu-b': 'wharf: nlp/llama@3 needs 30.0 GiB of cache, node has 12.0 GiB free of its 40.0 GiB budget' }, FailedAndUnresolvableNodes: {}, Error: '' },
  },
};
const PRIORITY_LIST = { schema: { type: 'array', items: { type: 'object', properties: { Host: { type: 'string' }, Score: { type: 'integer', minimum: 0, maximum: 10 } } }, example: [{ Host: 'gpu-a', Score: 7 }, { Host: 'gpu-b', Score: 0 }] } };

const PRIORITIZE_DOC = {
  summary: 'kube-scheduler extender prioritize (ExtenderArgs → HostPriorityList, scores 0–10)',
  description: 'Scores the bytes of the pod\'s version already on each node, damped by how widely it is spread. See docs/scheduling.md.',
};

/**
 * kube-scheduler's extender verbs. kube-scheduler cannot send an Authorization header to an
 * extender (its config has TLS settings only), so the caller proves itself with the configured
 * SCHEDULER_EXTENDER_TOKEN either as a bearer token (a proxy, a test, curl) or as a path segment
 * of the extender's urlPrefix (`…/api/v1/scheduler/t/<token>`). Without the token configured the
 * extender is off (404): node placement is not something to leave open by default.
 */
@ApiTags('scheduler')
@Controller('api/v1/scheduler')
export class SchedulerController {
  private readonly tokenDigest: Buffer | null;

  constructor(
    @Inject(SchedulerService) private readonly scheduler: SchedulerService,
    @Inject(AuthFailureLimiter) private readonly failures: AuthFailureLimiter,
    @Inject(WHARF_CONFIG) config: WharfConfig,
  ) {
    this.tokenDigest = config.SCHEDULER_EXTENDER_TOKEN ? sha256(config.SCHEDULER_EXTENDER_TOKEN) : null;
  }

  @Post('filter')
  @HttpCode(200)
  @Public()
  @ApiBearerAuth()
  @ApiOperation(FILTER_DOC)
  @ApiOkResponse(FILTER_RESULT)
  @ApiProblems('validation_failed', 'unauthenticated', 'scheduler_disabled', 'rate_limited')
  async filter(@Req() request: Request, @Res({ passthrough: true }) response: Response, @Body() body: unknown): Promise<ExtenderFilterResult> {
    await this.authorize(request, response, undefined);
    return this.scheduler.filter(body);
  }

  @Post('prioritize')
  @HttpCode(200)
  @Public()
  @ApiBearerAuth()
  @ApiOperation(PRIORITIZE_DOC)
  @ApiOkResponse(PRIORITY_LIST)
  @ApiProblems('validation_failed', 'unauthenticated', 'scheduler_disabled', 'rate_limited')
  async prioritize(@Req() request: Request, @Res({ passthrough: true }) response: Response, @Body() body: unknown): Promise<HostPriority[]> {
    await this.authorize(request, response, undefined);
    return this.scheduler.prioritize(body);
  }

  @Post('t/:token/filter')
  @HttpCode(200)
  @Public()
  @ApiOperation({ ...FILTER_DOC, summary: `${FILTER_DOC.summary}, token in the path (kube-scheduler's urlPrefix)` })
  @ApiOkResponse(FILTER_RESULT)
  @ApiProblems('validation_failed', 'unauthenticated', 'scheduler_disabled', 'rate_limited')
  async filterWithPathToken(@Req() request: Request, @Res({ passthrough: true }) response: Response, @Param('token') token: string, @Body() body: unknown): Promise<ExtenderFilterResult> {
    await this.authorize(request, response, token);
    return this.scheduler.filter(body);
  }

  @Post('t/:token/prioritize')
  @HttpCode(200)
  @Public()
  @ApiOperation({ ...PRIORITIZE_DOC, summary: `${PRIORITIZE_DOC.summary}, token in the path (kube-scheduler's urlPrefix)` })
  @ApiOkResponse(PRIORITY_LIST)
  @ApiProblems('validation_failed', 'unauthenticated', 'scheduler_disabled', 'rate_limited')
  async prioritizeWithPathToken(@Req() request: Request, @Res({ passthrough: true }) response: Response, @Param('token') token: string, @Body() body: unknown): Promise<HostPriority[]> {
    await this.authorize(request, response, token);
    return this.scheduler.prioritize(body);
  }

  /** Whether TOKEN is the configured one (constant time); false when the extender is off. */
  acceptsToken(token: string): boolean {
    return this.tokenDigest !== null && timingSafeEqual(sha256(token), this.tokenDigest);
  }

  /** Constant-time comparison; a wrong token counts against the caller's failed-authentication budget. */
  private async authorize(request: Request, response: Response, pathToken: string | undefined): Promise<void> {
    if (!this.tokenDigest) throw new WharfError('scheduler_disabled', 'This registry does not serve the scheduler extender: SCHEDULER_EXTENDER_TOKEN is not set');
    const presented = pathToken ?? /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (presented && this.acceptsToken(presented)) return;
    const budget = this.failures.forRequest(request, response);
    await budget.assertAllowed();
    await budget.countFailure();
    throw new WharfError('unauthenticated', 'The scheduler extender caller must present SCHEDULER_EXTENDER_TOKEN (bearer token or urlPrefix path segment)');
  }
}
