import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Put, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentActor, CurrentProject, ProjectAccess } from '../auth/access.decorator';
import { Actor, ProjectContext } from '../auth/auth-context';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { stickyKeysFromHeaders } from '../common/http/sticky-key';
import { EndpointDto, EndpointPageDto, ListEndpointsQuery, PutEndpointDto, RouteDecisionDto, RouteQuery } from './dto/endpoint.dto';
import { EndpointsService } from './endpoints.service';
import { ApiPathParams } from '../common/http/api-path-params';

@ApiTags('endpoints')
@Controller('api/v1/projects/:project/endpoints')
@ApiPathParams('project')
export class EndpointsController {
  constructor(@Inject(EndpointsService) private readonly endpoints: EndpointsService) {}

  @Get()
  @ProjectAccess('viewer')
  @ApiOperation({ summary: "List a project's endpoints by name" })
  @ApiOkResponse({ type: EndpointPageDto })
  @ApiProblems('validation_failed', 'invalid_cursor')
  list(@CurrentProject() project: ProjectContext, @Query() query: ListEndpointsQuery): Promise<EndpointPageDto> {
    return this.endpoints.list(project, query);
  }

  @Get(':endpoint')
  @ProjectAccess('viewer')
  @ApiOperation({ summary: 'Show an endpoint with the version each route serves now' })
  @ApiOkResponse({ type: EndpointDto })
  @ApiProblems('invalid_name', 'endpoint_not_found')
  get(@CurrentProject() project: ProjectContext, @Param('endpoint') endpoint: string): Promise<EndpointDto> {
    return this.endpoints.get(project, endpoint);
  }

  @Put(':endpoint')
  @ProjectAccess('editor')
  @ApiOperation({ summary: 'Create or replace an endpoint: weighted routes (percent, summing to 100), optional mirror, sticky header' })
  @ApiOkResponse({ type: EndpointDto, description: 'Replaced' })
  @ApiCreatedResponse({ type: EndpointDto, description: 'Created' })
  @ApiProblems(
    'validation_failed',
    'invalid_name',
    'invalid_reference',
    'model_not_found',
    'version_not_found',
    'tag_not_found',
    'version_not_ready',
  )
  async put(
    @CurrentProject() project: ProjectContext,
    @CurrentActor() actor: Actor,
    @Param('endpoint') endpoint: string,
    @Body() body: PutEndpointDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<EndpointDto> {
    const result = await this.endpoints.put(project, actor, endpoint, body);
    response.status(result.created ? 201 : 200);
    return result.endpoint;
  }

  @Delete(':endpoint')
  @HttpCode(204)
  @ProjectAccess('editor')
  @ApiOperation({ summary: 'Delete an endpoint' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems('invalid_name', 'endpoint_not_found')
  remove(@CurrentProject() project: ProjectContext, @CurrentActor() actor: Actor, @Param('endpoint') endpoint: string): Promise<void> {
    return this.endpoints.remove(project, actor, endpoint);
  }

  @Get(':endpoint/route')
  @ProjectAccess('viewer')
  @ApiOperation({ summary: 'The route (and version) serving a request with this sticky key; without a key, weighted random' })
  @ApiOkResponse({ type: RouteDecisionDto })
  @ApiProblems('validation_failed', 'invalid_name', 'endpoint_not_found')
  route(
    @CurrentProject() project: ProjectContext,
    @Param('endpoint') endpoint: string,
    @Query() query: RouteQuery,
    @Headers() headers: Record<string, unknown>,
  ): Promise<RouteDecisionDto> {
    return this.endpoints.route(project, endpoint, query.key, stickyKeysFromHeaders(headers));
  }
}
