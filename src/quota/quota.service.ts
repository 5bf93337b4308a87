import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { formatQuantity, parseQuantity } from '../common/validation/quantity';
import { assertName } from '../common/validation/names';
import { PutQuotaDto, QuotaDto } from './dto/quota.dto';
import { Project } from '../projects/project.entity';

const toText = (value: number | null): string | null => (value === null ? null : String(value));
const toNumber = (value: string | number | null): number | null => (value === null ? null : Number(value));

export function quotaDto(project: Project): QuotaDto {
  const storage = toNumber(project.storageQuotaBytes);
  const cpu = toNumber(project.cpuQuotaMillicores);
  const memory = toNumber(project.memoryQuotaBytes);
  return {
    project: project.name,
    storageBytes: storage,
    storage: storage === null ? null : formatQuantity(storage, 'bytes'),
    cpu: cpu === null ? null : formatQuantity(cpu, 'millicores'),
    cpuMillicores: cpu,
    memory: memory === null ? null : formatQuantity(memory, 'bytes'),
    memoryBytes: memory,
    gpu: project.gpuQuota,
  };
}

/**
 * Project quotas. Storage is enforced by uploads (`projects.storage_quota_bytes`, null falling back
 * to PROJECT_STORAGE_QUOTA, 0 meaning unlimited); cpu, memory
 * and gpu are recorded for the operator, which turns them into the namespace's ResourceQuota.
 */
@Injectable()
export class QuotaService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  async get(projectName: string): Promise<QuotaDto> {
    return quotaDto(await this.find(projectName));
  }

  async put(projectName: string, actor: Actor, dto: PutQuotaDto): Promise<QuotaDto> {
    const parse = (field: keyof PutQuotaDto, unit: 'bytes' | 'millicores' | 'count') =>
      dto[field] === undefined || dto[field] === null ? null : parseQuantity(field, dto[field], unit);
    const quota = {
      storageQuotaBytes: parse('storage', 'bytes'),
      cpuQuotaMillicores: parse('cpu', 'millicores'),
      memoryQuotaBytes: parse('memory', 'bytes'),
      gpuQuota: parse('gpu', 'count'),
    };
    if (quota.gpuQuota !== null && quota.gpuQuota > 2_147_483_647) {
      throw new WharfError('validation_failed', 'gpu: too large', { errors: [{ field: 'gpu', message: 'too large' }] });
    }
    const name = assertName('project', projectName, 'project');
    return this.dataSource.transaction(async (manager) => {
      const result = await manager
        .createQueryBuilder()
        .update(Project)
        .set({
          storageQuotaBytes: toText(quota.storageQuotaBytes),
          cpuQuotaMillicores: toText(quota.cpuQuotaMillicores),
          memoryQuotaBytes: toText(quota.memoryQuotaBytes),
          gpuQuota: quota.gpuQuota,
        })
        .where('name = :name', { name })
        .execute();
      if (!result.affected) throw new WharfError('project_not_found', `No project "${name}"`);
      const project = await manager.findOneByOrFail(Project, { name });
      const dtoOut = quotaDto(project);
      await this.audit.record(manager, actor, {
        action: 'project.quota',
        target: name,
        project: name,
        details: { storageBytes: dtoOut.storageBytes, cpu: dtoOut.cpu, memory: dtoOut.memory, gpu: dtoOut.gpu },
      });
      return dtoOut;
    });
  }

  private async find(projectName: string): Promise<Project> {
    const project = await this.dataSource.getRepository(Project).findOneBy({ name: assertName('project', projectName, 'project') });
    if (!project) throw new WharfError('project_not_found', `No project "${projectName}"`);
    return project;
  }
}
