import { Controller, Get, Headers, Inject, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentProject, ProjectAccess } from '../auth/access.decorator';
import { ProjectContext } from '../auth/auth-context';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { stickyKeysFromHeaders } from '../common/http/sticky-key';
import { ResolvedVersionDto, ResolveQuery } from './dto/resolve.dto';
import { ResolveService } from './resolve.service';
import { ApiPathParams } from '../common/http/api-path-params';

@ApiTags('tags')
@Controller('api/v1/projects/:project/models/:model/resolve')
@ApiPathParams('project', 'model')
export class ResolveController {
  constructor(@Inject(ResolveService) private readonly resolver: ResolveService) {}

  @Get()
  @ProjectAccess('viewer')
  @ApiOperation({
    summary: 'Resolve a reference (tag, number or manifest digest) to the concrete version',
    description:
      'With `ref` naming an endpoint of the project (`project/endpoint`), the answer is the version of this model that the endpoint ' +
      'serves to the sticky `key` (else its sticky header, else weighted random), the same decision as `…/endpoints/{endpoint}/route`; ' +
      '409 `endpoint_model_mismatch` when that route is a version of another model. `key` is ignored for tags, numbers and digests.',
  })
  @ApiOkResponse({ type: ResolvedVersionDto })
  @ApiProblems(
    'validation_failed',
    'invalid_name',
    'invalid_reference',
    'model_not_found',
    'tag_not_found',
    'version_not_found',
    'version_not_ready',
    'endpoint_not_found',
    'endpoint_model_mismatch',
  )
  resolve(
    @CurrentProject() project: ProjectContext,
    @Param('model') model: string,
    @Query() query: ResolveQuery,
    @Headers() headers: Record<string, unknown>,
  ): Promise<ResolvedVersionDto> {
    return this.resolver.resolve(project, model, query.ref, query.key, stickyKeysFromHeaders(headers));
  }
}
