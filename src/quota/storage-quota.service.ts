import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { WharfError } from '../common/errors/wharf-error';
import { ProjectContext } from '../auth/auth-context';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { Queryable } from '../database/queryable';
import { uploadRepository } from '../uploads/upload.repository';
import { ProjectStorageDto } from './dto/storage-usage.dto';
import { projectStorageRepository } from './project-storage.repository';

/**
 * A project's storage quota: the bytes its blobs take and its uploads in progress reserve,
 * against its own quota or PROJECT_STORAGE_QUOTA. Every method runs in the caller's transaction.
 */
@Injectable()
export class StorageQuota {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  /**
   * Refuses a new upload that would take the project past its quota, counting stored blobs and
   * the sizes of uploads still in progress. The project's storage row is locked, so two
   * uploads cannot both squeeze under the limit.
   */
  async checkUpload(db: Queryable, projectId: string, size: number): Promise<void> {
    const storage = await projectStorageRepository.lock(db, projectId);
    const quota = this.effectiveQuota(storage.quotaBytes);
    if (!quota) return;
    const pending = await uploadRepository.liveBytesOfProject(db, projectId);
    if (storage.usedBytes + pending + size > quota) {
      throw new WharfError(
        'storage_quota_exceeded',
        `The project holds ${storage.usedBytes} bytes and has ${pending} bytes of uploads in progress; ${size} more would pass its quota of ${quota} bytes`,
      );
    }
  }

  /** Counts a new blob's bytes as used, refusing them when they pass the quota. */
  async charge(db: Queryable, projectId: string, size: number): Promise<void> {
    const storage = await projectStorageRepository.lock(db, projectId);
    const quota = this.effectiveQuota(storage.quotaBytes);
    if (quota && storage.usedBytes + size > quota) {
      throw new WharfError('storage_quota_exceeded', `The project holds ${storage.usedBytes} bytes; ${size} more would pass its quota of ${quota} bytes`);
    }
    await projectStorageRepository.addUsed(db, projectId, size);
  }

  /** What the project stores, what uploads in progress reserve, and the quota in force. */
  async usage(project: ProjectContext, db: Queryable = this.dataSource): Promise<ProjectStorageDto> {
    const storage = await projectStorageRepository.read(db, project.id);
    return {
      project: project.name,
      quotaBytes: this.effectiveQuota(storage.quotaBytes),
      quotaSource: storage.quotaBytes === null ? 'default' : 'project',
      usedBytes: storage.usedBytes,
      pendingUploadBytes: await uploadRepository.liveBytesOfProject(db, project.id),
    };
  }

  /** The project's own quota (PUT …/quota), else PROJECT_STORAGE_QUOTA; 0 means unlimited. */
  private effectiveQuota(projectQuota: string | null): number {
    return projectQuota === null ? this.config.PROJECT_STORAGE_QUOTA : Number(projectQuota);
  }
}
