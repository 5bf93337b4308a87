import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { Public } from '../auth/access.decorator';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { WharfError } from '../common/errors/wharf-error';
import { METRICS, Metrics } from '../observability/metrics';
import { RateLimitClass } from '../ratelimit/rate-limit.decorator';
import { ARTIFACT_STORE, ArtifactStore } from '../storage/artifact-store';

const READY_TIMEOUT_MS = 2_000;

@ApiTags('health')
@RateLimitClass('none')
@Controller()
export class HealthController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
  ) {}

  @Get('healthz')
  @Public()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  healthz(): { status: string } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @Public()
  @ApiOperation({
    summary: 'Readiness: the database and the object store answer',
    description: 'The store is asked at most once every two seconds; a request that met a store outage since then makes it not ready at once.',
  })
  @ApiOkResponse({ schema: { example: { status: 'ready', database: 'ok', storage: 'ok' } } })
  @ApiProblems('database_unavailable', 'storage_unavailable')
  async readyz(): Promise<{ status: string; database: string; storage: string }> {
    const [database, storage] = await Promise.all([this.databaseAnswers(), this.store.ready().catch(() => false)]);
    if (!database) throw new WharfError('database_unavailable', 'The database does not answer');
    if (!storage) throw new WharfError('storage_unavailable', 'The object store does not answer');
    return { status: 'ready', database: 'ok', storage: 'ok' };
  }

  private async databaseAnswers(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.dataSource.query('SELECT 1'),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS))),
      ]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  @Get('metrics')
  @Public()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics' })
  @ApiOkResponse({ description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } })
  async prometheus(@Res() response: Response): Promise<void> {
    response.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
