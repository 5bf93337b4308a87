import { Body, Controller, Get, Inject, Param, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, CurrentProject, PlatformAdmin, ProjectAccess } from '../auth/access.decorator';
import { Actor, ProjectContext } from '../auth/auth-context';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { PutQuotaDto, QuotaDto } from './dto/quota.dto';
import { QuotaService } from './quota.service';
import { ApiPathParams } from '../common/http/api-path-params';

@ApiTags('projects')
@Controller('api/v1/projects/:project/quota')
@ApiPathParams('project')
export class QuotaController {
  constructor(@Inject(QuotaService) private readonly quotas: QuotaService) {}

  @Get()
  @ProjectAccess('viewer')
  @ApiOperation({ summary: "Show the project's quotas (null means unlimited)" })
  @ApiOkResponse({ type: QuotaDto })
  @ApiProblems('invalid_name')
  get(@CurrentProject() project: ProjectContext): Promise<QuotaDto> {
    return this.quotas.get(project.name);
  }

  /** Platform admins only: a project admin raising their own quota would make it no quota. */
  @Put()
  @PlatformAdmin()
  @ApiOperation({ summary: "Replace the project's quotas: storage (enforced by uploads), cpu, memory, gpu" })
  @ApiOkResponse({ type: QuotaDto })
  @ApiProblems('validation_failed', 'invalid_name', 'project_not_found')
  put(@Param('project') project: string, @CurrentActor() actor: Actor, @Body() body: PutQuotaDto): Promise<QuotaDto> {
    return this.quotas.put(project, actor, body);
  }
}
