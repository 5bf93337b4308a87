import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, CurrentProject, ProjectAccess } from '../auth/access.decorator';
import { Actor, ProjectContext } from '../auth/auth-context';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { CreateVersionDto, ListVersionsQuery, UpdateVersionDto, VersionDto, VersionPageDto } from './dto/version.dto';
import { VersionsService } from './versions.service';
import { ApiPathParams } from '../common/http/api-path-params';

@ApiTags('versions')
@Controller('api/v1/projects/:project/models/:model/versions')
@ApiPathParams('project', 'model')
export class VersionsController {
  constructor(@Inject(VersionsService) private readonly versions: VersionsService) {}

  @Post()
  @ProjectAccess('editor')
  @ApiOperation({ summary: 'Create a draft version with the next number' })
  @ApiCreatedResponse({ type: VersionDto })
  @ApiProblems('validation_failed', 'invalid_name', 'model_not_found', 'metadata_too_large')
  create(
    @CurrentProject() project: ProjectContext,
    @CurrentActor() actor: Actor,
    @Param('model') model: string,
    @Body() body: CreateVersionDto,
  ): Promise<VersionDto> {
    return this.versions.create(project, actor, model, body);
  }

  @Get()
  @ProjectAccess('viewer')
  @ApiOperation({ summary: 'List versions (newest first; archived ones only when asked for by state)' })
  @ApiOkResponse({ type: VersionPageDto })
  @ApiProblems('validation_failed', 'invalid_name', 'invalid_cursor', 'model_not_found')
  list(@CurrentProject() project: ProjectContext, @Param('model') model: string, @Query() query: ListVersionsQuery): Promise<VersionPageDto> {
    return this.versions.list(project, model, query);
  }

  @Get(':version')
  @ProjectAccess('viewer')
  @ApiOperation({ summary: 'Show a version' })
  @ApiOkResponse({ type: VersionDto })
  @ApiProblems('validation_failed', 'invalid_name', 'model_not_found', 'version_not_found')
  get(@CurrentProject() project: ProjectContext, @Param('model') model: string, @Param('version') version: string): Promise<VersionDto> {
    return this.versions.get(project, model, version);
  }

  @Patch(':version')
  @ProjectAccess('editor')
  @ApiOperation({ summary: "Change a draft's description or metadata, archive or unarchive, or mark a draft failed" })
  @ApiOkResponse({ type: VersionDto })
  @ApiProblems(
    'validation_failed',
    'invalid_name',
    'model_not_found',
    'version_not_found',
    'version_immutable',
    'version_state_conflict',
    'metadata_too_large',
    'version_in_use',
    'tag_in_use',
  )
  update(
    @CurrentProject() project: ProjectContext,
    @CurrentActor() actor: Actor,
    @Param('model') model: string,
    @Param('version') version: string,
    @Body() body: UpdateVersionDto,
  ): Promise<VersionDto> {
    return this.versions.update(project, actor, model, version, body);
  }

  @Post(':version/commit')
  @HttpCode(200)
  @ProjectAccess('editor')
  @ApiOperation({ summary: 'Commit a draft once all its uploads are complete: it becomes ready and immutable (repeating a commit is harmless)' })
  @ApiOkResponse({ type: VersionDto })
  @ApiProblems('validation_failed', 'invalid_name', 'model_not_found', 'version_not_found', 'version_state_conflict', 'uploads_pending', 'version_empty')
  commit(
    @CurrentProject() project: ProjectContext,
    @CurrentActor() actor: Actor,
    @Param('model') model: string,
    @Param('version') version: string,
  ): Promise<VersionDto> {
    return this.versions.commit(project, actor, model, version);
  }

  @Delete(':version')
  @HttpCode(204)
  @ProjectAccess('editor')
  @ApiOperation({ summary: 'Delete a version (a committed one needs the admin role); its number is never reused' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems('validation_failed', 'invalid_name', 'model_not_found', 'version_not_found', 'version_in_use', 'tag_in_use')
  remove(
    @CurrentProject() project: ProjectContext,
    @CurrentActor() actor: Actor,
    @Param('model') model: string,
    @Param('version') version: string,
  ): Promise<void> {
    return this.versions.remove(project, actor, model, version);
  }
}
