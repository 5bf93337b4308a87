import { Body, Controller, Get, Inject, Param, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { CurrentActor, CurrentProject, PlatformAdmin, ProjectAccess } from '../auth/access.decorator';
import { Actor, ProjectContext } from '../auth/auth-context';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { WharfError } from '../common/errors/wharf-error';
import { assertName } from '../common/validation/names';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { ProjectStorageDto, PutProjectStorageDto } from './dto/storage.dto';

@ApiTags('projects')
@Controller('api/v1/projects/:project/storage')
export class StorageController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  @Get()
  @ProjectAccess('viewer')
  @ApiOperation({ summary: "The project's storage use and quota" })
  @ApiOkResponse({ type: ProjectStorageDto })
  get(@CurrentProject() project: ProjectContext): Promise<ProjectStorageDto> {
    return this.usage(project.id, project.name);
  }

  @Put()
  @PlatformAdmin()
  @ApiOperation({ summary: "Set a project's storage quota (platform admins only)" })
  @ApiOkResponse({ type: ProjectStorageDto })
  @ApiProblems('validation_failed', 'invalid_name', 'project_not_found')
  async put(@Param('project') rawName: string, @CurrentActor() actor: Actor, @Body() body: PutProjectStorageDto): Promise<ProjectStorageDto> {
    const name = assertName('project', rawName);
    const id = await this.dataSource.transaction(async (manager) => {
      const [project]: { id: string }[] = await manager.query(`SELECT id FROM projects WHERE name = $1`, [name]);
      if (!project) throw new WharfError('project_not_found', `No project "${name}"`);
      await manager.query(
        `INSERT INTO project_storage (project_id, quota_bytes) VALUES ($1, $2)
         ON CONFLICT (project_id) DO UPDATE SET quota_bytes = EXCLUDED.quota_bytes`,
        [project.id, body.quotaBytes],
      );
      await this.audit.record(manager, actor, { action: 'project.storage.quota', target: name, project: name, details: { quotaBytes: body.quotaBytes } });
      return project.id;
    });
    return this.usage(id, name);
  }

  private async usage(projectId: string, name: string): Promise<ProjectStorageDto> {
    const [row]: { quota_bytes: string | null; used_bytes: string | null; pending: string }[] = await this.dataSource.query(
      `SELECT s.quota_bytes, s.used_bytes,
              (SELECT coalesce(sum(size), 0) FROM uploads WHERE project_id = $1 AND state IN ('open', 'completing')) AS pending
         FROM (SELECT 1) one LEFT JOIN project_storage s ON s.project_id = $1`,
      [projectId],
    );
    return {
      project: name,
      quotaBytes: Number(row.quota_bytes ?? this.config.PROJECT_STORAGE_QUOTA),
      quotaSource: row.quota_bytes === null ? 'default' : 'project',
      usedBytes: Number(row.used_bytes ?? 0),
      pendingUploadBytes: Number(row.pending),
    };
  }
}
