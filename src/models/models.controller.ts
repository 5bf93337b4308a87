import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, CurrentProject, ProjectAccess } from '../auth/access.decorator';
import { Actor, ProjectContext } from '../auth/auth-context';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { CreateModelDto, ListModelsQuery, ModelDto, ModelPageDto, UpdateModelDto } from './dto/model.dto';
import { ModelsService } from './models.service';
import { ApiPathParams } from '../common/http/api-path-params';

@ApiTags('models')
@Controller('api/v1/projects/:project/models')
@ApiPathParams('project')
export class ModelsController {
  constructor(@Inject(ModelsService) private readonly models: ModelsService) {}

  @Post()
  @ProjectAccess('editor')
  @ApiOperation({ summary: 'Create a model' })
  @ApiCreatedResponse({ type: ModelDto })
  @ApiProblems('validation_failed', 'invalid_name', 'model_exists')
  create(@CurrentProject() project: ProjectContext, @CurrentActor() actor: Actor, @Body() body: CreateModelDto): Promise<ModelDto> {
    return this.models.create(project, actor, body);
  }

  @Get()
  @ProjectAccess('viewer')
  @ApiOperation({ summary: 'List models, filtered by name prefix and labels, sorted, cursor-paginated' })
  @ApiOkResponse({ type: ModelPageDto })
  @ApiProblems('validation_failed', 'invalid_name', 'invalid_cursor')
  list(@CurrentProject() project: ProjectContext, @Query() query: ListModelsQuery): Promise<ModelPageDto> {
    return this.models.list(project, query);
  }

  @Get(':model')
  @ProjectAccess('viewer')
  @ApiOperation({ summary: 'Show a model' })
  @ApiOkResponse({ type: ModelDto })
  @ApiProblems('invalid_name', 'model_not_found')
  get(@CurrentProject() project: ProjectContext, @Param('model') model: string): Promise<ModelDto> {
    return this.models.get(project, model);
  }

  @Patch(':model')
  @ProjectAccess('editor')
  @ApiOperation({ summary: "Change a model's description or labels" })
  @ApiOkResponse({ type: ModelDto })
  @ApiProblems('validation_failed', 'invalid_name', 'model_not_found')
  update(
    @CurrentProject() project: ProjectContext,
    @CurrentActor() actor: Actor,
    @Param('model') model: string,
    @Body() body: UpdateModelDto,
  ): Promise<ModelDto> {
    return this.models.update(project, actor, model, body);
  }

  @Delete(':model')
  @HttpCode(204)
  @ProjectAccess('admin')
  @ApiOperation({ summary: 'Delete a model and all its versions' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems('invalid_name', 'model_not_found', 'model_in_use')
  remove(@CurrentProject() project: ProjectContext, @CurrentActor() actor: Actor, @Param('model') model: string): Promise<void> {
    return this.models.remove(project, actor, model);
  }
}
