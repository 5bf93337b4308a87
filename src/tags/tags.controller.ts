import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, CurrentProject, ProjectAccess } from '../auth/access.decorator';
import { Actor, ProjectContext } from '../auth/auth-context';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { ListTagsQuery, ReasonDto, TagDto, TagHistoryPageDto, TagHistoryQuery, TagPageDto, TagTargetDto } from './dto/tag.dto';
import { TagsService } from './tags.service';
import { ApiPathParams } from '../common/http/api-path-params';

@ApiTags('tags')
@Controller('api/v1/projects/:project/models/:model/tags')
@ApiPathParams('project', 'model')
export class TagsController {
  constructor(@Inject(TagsService) private readonly tags: TagsService) {}

  @Get()
  @ProjectAccess('viewer')
  @ApiOperation({ summary: "List a model's tags by name" })
  @ApiOkResponse({ type: TagPageDto })
  @ApiProblems('validation_failed', 'invalid_name', 'invalid_cursor', 'model_not_found')
  list(@CurrentProject() project: ProjectContext, @Param('model') model: string, @Query() query: ListTagsQuery): Promise<TagPageDto> {
    return this.tags.list(project, model, query);
  }

  @Get(':tag')
  @ProjectAccess('viewer')
  @ApiOperation({ summary: 'Show a tag and the version it points to' })
  @ApiOkResponse({ type: TagDto })
  @ApiProblems('invalid_name', 'model_not_found', 'tag_not_found')
  get(@CurrentProject() project: ProjectContext, @Param('model') model: string, @Param('tag') tag: string): Promise<TagDto> {
    return this.tags.get(project, model, tag);
  }

  @Put(':tag')
  @ProjectAccess('editor')
  @ApiOperation({ summary: 'Move a tag to a ready version (creating it), with a reason kept in its history' })
  @ApiOkResponse({ type: TagDto })
  @ApiProblems(
    'validation_failed',
    'invalid_name',
    'invalid_reference',
    'model_not_found',
    'version_not_found',
    'tag_not_found',
    'version_not_ready',
    'tag_pinned',
    'tag_automatic',
  )
  put(
    @CurrentProject() project: ProjectContext,
    @CurrentActor() actor: Actor,
    @Param('model') model: string,
    @Param('tag') tag: string,
    @Body() body: TagTargetDto,
  ): Promise<TagDto> {
    return this.tags.put(project, actor, model, tag, body);
  }

  @Delete(':tag')
  @HttpCode(204)
  @ProjectAccess('editor')
  @ApiOperation({ summary: 'Delete a tag (its history stays)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems('validation_failed', 'invalid_name', 'model_not_found', 'tag_not_found', 'tag_pinned', 'tag_automatic', 'tag_in_use')
  remove(
    @CurrentProject() project: ProjectContext,
    @CurrentActor() actor: Actor,
    @Param('model') model: string,
    @Param('tag') tag: string,
    @Query() query: ReasonDto,
  ): Promise<void> {
    return this.tags.remove(project, actor, model, tag, query);
  }

  @Get(':tag/history')
  @ProjectAccess('viewer')
  @ApiOperation({ summary: "A tag's history, newest first: every move, pin, unpin, rollback and delete with actor and reason" })
  @ApiOkResponse({ type: TagHistoryPageDto })
  @ApiProblems('validation_failed', 'invalid_name', 'model_not_found', 'tag_not_found')
  history(
    @CurrentProject() project: ProjectContext,
    @Param('model') model: string,
    @Param('tag') tag: string,
    @Query() query: TagHistoryQuery,
  ): Promise<TagHistoryPageDto> {
    return this.tags.history(project, model, tag, query);
  }

  @Post(':tag/pin')
  @HttpCode(200)
  @ProjectAccess('editor')
  @ApiOperation({ summary: 'Pin a tag where it is, or at the given version: it refuses moves until unpinned' })
  @ApiOkResponse({ type: TagDto })
  @ApiProblems(
    'validation_failed',
    'invalid_name',
    'invalid_reference',
    'model_not_found',
    'tag_not_found',
    'version_not_found',
    'version_not_ready',
    'tag_pinned',
  )
  pin(
    @CurrentProject() project: ProjectContext,
    @CurrentActor() actor: Actor,
    @Param('model') model: string,
    @Param('tag') tag: string,
    @Body() body: TagTargetDto,
  ): Promise<TagDto> {
    return this.tags.pin(project, actor, model, tag, body);
  }

  @Post(':tag/unpin')
  @HttpCode(200)
  @ProjectAccess('editor')
  @ApiOperation({ summary: 'Unpin a tag (an unpinned latest catches up with the newest ready version)' })
  @ApiOkResponse({ type: TagDto })
  @ApiProblems('validation_failed', 'invalid_name', 'model_not_found', 'tag_not_found')
  unpin(
    @CurrentProject() project: ProjectContext,
    @CurrentActor() actor: Actor,
    @Param('model') model: string,
    @Param('tag') tag: string,
    @Body() body: ReasonDto,
  ): Promise<TagDto> {
    return this.tags.unpin(project, actor, model, tag, body);
  }

  @Post(':tag/rollback')
  @HttpCode(200)
  @ProjectAccess('editor')
  @ApiOperation({ summary: 'Move a tag back to the previous distinct ready version in its history and pin it' })
  @ApiOkResponse({ type: TagDto })
  @ApiProblems('validation_failed', 'invalid_name', 'model_not_found', 'tag_not_found', 'tag_pinned', 'no_rollback_target')
  rollback(
    @CurrentProject() project: ProjectContext,
    @CurrentActor() actor: Actor,
    @Param('model') model: string,
    @Param('tag') tag: string,
    @Body() body: ReasonDto,
  ): Promise<TagDto> {
    return this.tags.rollback(project, actor, model, tag, body);
  }
}
