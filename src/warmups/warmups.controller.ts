import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, CurrentProject, ProjectAccess } from '../auth/access.decorator';
import { Actor, ProjectContext } from '../auth/auth-context';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { CreateWarmupDto, WarmupDto, WarmupListDto } from './dto/warmup.dto';
import { WarmupsService } from './warmups.service';
import { ApiPathParams } from '../common/http/api-path-params';

@ApiTags('warmups')
@Controller('api/v1/projects/:project/warmups')
@ApiPathParams('project')
export class WarmupsController {
  constructor(@Inject(WarmupsService) private readonly warmups: WarmupsService) {}

  @Post()
  @ProjectAccess('editor')
  @ApiOperation({ summary: 'Keep a version (or the version a tag names, followed live) ready on nodes matching a selector' })
  @ApiCreatedResponse({ type: WarmupDto })
  @ApiProblems('validation_failed', 'invalid_name', 'invalid_reference', 'model_not_found', 'version_not_found', 'tag_not_found', 'version_not_ready')
  create(@CurrentProject() project: ProjectContext, @CurrentActor() actor: Actor, @Body() body: CreateWarmupDto): Promise<WarmupDto> {
    return this.warmups.create(project, actor, body);
  }

  @Get()
  @ProjectAccess('viewer')
  @ApiOperation({ summary: "List the project's warm-ups with the nodes holding each one's version" })
  @ApiOkResponse({ type: WarmupListDto })
  @ApiProblems('invalid_name')
  list(@CurrentProject() project: ProjectContext): Promise<WarmupListDto> {
    return this.warmups.list(project);
  }

  @Get(':id')
  @ProjectAccess('viewer')
  @ApiOperation({ summary: 'Show a warm-up: the version it names now and its progress on each matching ready node' })
  @ApiOkResponse({ type: WarmupDto })
  @ApiProblems('invalid_name', 'warmup_not_found')
  get(@CurrentProject() project: ProjectContext, @Param('id') id: string): Promise<WarmupDto> {
    return this.warmups.get(project, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ProjectAccess('editor')
  @ApiOperation({ summary: 'Delete a warm-up; nodes may then evict its version when they need the space' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems('invalid_name', 'warmup_not_found')
  remove(@CurrentProject() project: ProjectContext, @CurrentActor() actor: Actor, @Param('id') id: string): Promise<void> {
    return this.warmups.remove(project, actor, id);
  }
}
