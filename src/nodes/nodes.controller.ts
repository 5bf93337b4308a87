import { RateLimitClass } from '../ratelimit/rate-limit.decorator';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Put, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, CurrentProject, NodeAgent, PlatformAdmin, ProjectAccess } from '../auth/access.decorator';
import { Actor, ProjectContext } from '../auth/auth-context';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { HeartbeatDto, HeartbeatReplyDto, ListNodesQuery, LocationListDto, NodeDto, NodeListDto, NodePageQuery } from './dto/node.dto';
import { HeartbeatService } from './heartbeat.service';
import { NodesService } from './nodes.service';
import { ApiPathParams } from '../common/http/api-path-params';

@ApiTags('nodes')
@Controller('api/v1/nodes')
export class NodesController {
  constructor(
    @Inject(NodesService) private readonly nodes: NodesService,
    @Inject(HeartbeatService) private readonly heartbeats: HeartbeatService,
  ) {}

  @Put(':node')
  @HttpCode(200)
  @NodeAgent()
  @RateLimitClass('agent')
  @ApiOperation({
    summary: "A node agent's heartbeat: its inventory (whole, or a delta since the last acknowledged sequence) in, its assignments out",
  })
  @ApiOkResponse({ type: HeartbeatReplyDto })
  @ApiProblems('validation_failed', 'invalid_name')
  heartbeat(@CurrentActor() actor: Actor, @Param('node') node: string, @Body() body: HeartbeatDto): Promise<HeartbeatReplyDto> {
    return this.heartbeats.heartbeat(actor, node, body);
  }

  @Get()
  @NodeAgent()
  @ApiOperation({ summary: 'List nodes by name, a page at a time (platform admins and node agents): labels, disk, readiness' })
  @ApiOkResponse({ type: NodeListDto })
  @ApiProblems('validation_failed', 'invalid_cursor')
  list(@Query() query: ListNodesQuery): Promise<NodeListDto> {
    return this.nodes.list(query);
  }

  @Get(':node')
  @NodeAgent()
  @ApiOperation({ summary: 'Show a node with every cache entry it reported' })
  @ApiOkResponse({ type: NodeDto })
  @ApiProblems('invalid_name', 'node_not_found')
  get(@Param('node') node: string): Promise<NodeDto> {
    return this.nodes.get(node);
  }

  @Delete(':node')
  @HttpCode(204)
  @PlatformAdmin()
  @ApiOperation({ summary: 'Forget a decommissioned node' })
  @ApiNoContentResponse({ description: 'Forgotten' })
  @ApiProblems('invalid_name', 'node_not_found')
  remove(@CurrentActor() actor: Actor, @Param('node') node: string): Promise<void> {
    return this.nodes.remove(actor, node);
  }
}

@ApiTags('nodes')
@Controller('api/v1/projects/:project/models/:model/versions/:version/locations')
@ApiPathParams('project', 'model', 'version')
export class LocationsController {
  constructor(@Inject(NodesService) private readonly nodes: NodesService) {}

  @Get()
  @ProjectAccess('viewer')
  @ApiOperation({ summary: 'The ready nodes holding this version ready on local disk, by name, a page at a time' })
  @ApiOkResponse({ type: LocationListDto })
  @ApiProblems('validation_failed', 'invalid_cursor', 'invalid_name', 'model_not_found', 'version_not_found')
  list(
    @CurrentProject() project: ProjectContext,
    @Param('model') model: string,
    @Param('version') version: string,
    @Query() query: NodePageQuery,
  ): Promise<LocationListDto> {
    return this.nodes.locations(project, model, version, query);
  }
}
