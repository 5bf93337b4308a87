import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentProject, ProjectAccess } from '../auth/access.decorator';
import { ProjectContext } from '../auth/auth-context';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { ProjectStorageDto } from './dto/storage-usage.dto';
import { StorageQuota } from './storage-quota.service';
import { ApiPathParams } from '../common/http/api-path-params';

/** Storage use report. The quota itself is set with `PUT /projects/{project}/quota` (storage, cpu, memory, gpu). */
@ApiTags('projects')
@Controller('api/v1/projects/:project/storage')
@ApiPathParams('project')
export class StorageUsageController {
  constructor(@Inject(StorageQuota) private readonly quota: StorageQuota) {}

  @Get()
  @ProjectAccess('viewer')
  @ApiOperation({ summary: "The project's storage use, uploads in progress and the quota in force" })
  @ApiOkResponse({ type: ProjectStorageDto })
  @ApiProblems('invalid_name')
  get(@CurrentProject() project: ProjectContext): Promise<ProjectStorageDto> {
    return this.quota.usage(project);
  }
}
