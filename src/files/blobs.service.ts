import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { WharfError } from '../common/errors/wharf-error';
import { ProjectContext } from '../auth/auth-context';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { ProjectStorageDto } from './dto/storage.dto';

export interface BlobRow {
  sha256: string;
  size: number;
  storageKey: string;
}

/**
 * The project's content-addressed blobs, its storage quota, and the files of versions that
 * point at blobs. Every method runs inside the caller's transaction.
 */
@Injectable()
export class BlobsService {
  constructor(@Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}

  /** The blob with this digest in the project, locked against garbage collection until commit. */
  async find(manager: EntityManager, projectId: string, sha256: string): Promise<BlobRow | null> {
    const rows: { sha256: string; size: string; storage_key: string }[] = await manager.query(
      `SELECT sha256, size, storage_key FROM blobs WHERE project_id = $1 AND sha256 = $2 FOR SHARE`,
      [projectId, sha256],
    );
    return rows[0] ? { sha256: rows[0].sha256, size: Number(rows[0].size), storageKey: rows[0].storage_key } : null;
  }

  /**
   * Refuses a new upload that would take the project past its quota, counting stored blobs and
   * the sizes of uploads still in progress. The project's storage row is locked, so two
   * uploads cannot both squeeze under the limit.
   */
  async checkQuotaForUpload(manager: EntityManager, projectId: string, size: number): Promise<void> {
    const { quota, used } = await this.lockStorage(manager, projectId);
    if (!quota) return;
    const [{ pending }]: { pending: string }[] = await manager.query(
      `SELECT coalesce(sum(size), 0) AS pending FROM uploads WHERE project_id = $1 AND state IN ('open', 'completing')`,
      [projectId],
    );
    if (used + Number(pending) + size > quota) {
      throw new WharfError(
        'storage_quota_exceeded',
        `The project holds ${used} bytes and has ${pending} bytes of uploads in progress; ${size} more would pass its quota of ${quota} bytes`,
      );
    }
  }

  /**
   * Records verified bytes as the project's blob with this digest. When the project already
   * has that blob (a concurrent upload of the same content won), the existing one is kept and
   * `created` is false: the caller deletes its own copy.
   */
  async register(manager: EntityManager, projectId: string, sha256: string, size: number, storageKey: string): Promise<{ blob: BlobRow; created: boolean }> {
    const inserted: unknown[] = await manager.query(
      `INSERT INTO blobs (project_id, sha256, size, storage_key) VALUES ($1, $2, $3, $4)
       ON CONFLICT (project_id, sha256) DO NOTHING RETURNING sha256`,
      [projectId, sha256, size, storageKey],
    );
    if (inserted.length === 0) {
      const existing = await this.find(manager, projectId, sha256);
      if (!existing) throw new Error(`blob ${sha256} vanished while it was being registered`);
      return { blob: existing, created: false };
    }
    const { quota, used } = await this.lockStorage(manager, projectId);
    if (quota && used + size > quota) {
      throw new WharfError('storage_quota_exceeded', `The project holds ${used} bytes; ${size} more would pass its quota of ${quota} bytes`);
    }
    await manager.query(`UPDATE project_storage SET used_bytes = used_bytes + $2 WHERE project_id = $1`, [projectId, size]);
    return { blob: { sha256, size, storageKey }, created: true };
  }

  /** Adds a file to a draft version, or replaces the file at that path. */
  async attach(manager: EntityManager, versionId: string, projectId: string, path: string, blob: BlobRow): Promise<void> {
    await manager.query(
      `INSERT INTO version_files (version_id, path, project_id, sha256, size) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (version_id, path) DO UPDATE SET sha256 = EXCLUDED.sha256, size = EXCLUDED.size, created_at = now()`,
      [versionId, path, projectId, blob.sha256, blob.size],
    );
  }

  private async lockStorage(manager: EntityManager, projectId: string): Promise<{ quota: number; used: number }> {
    await manager.query(`INSERT INTO project_storage (project_id) VALUES ($1) ON CONFLICT (project_id) DO NOTHING`, [projectId]);
    const rows: { quota_bytes: string | null; used_bytes: string }[] = await manager.query(
      `SELECT p.storage_quota_bytes AS quota_bytes, s.used_bytes
         FROM project_storage s JOIN projects p ON p.id = s.project_id
        WHERE s.project_id = $1 FOR UPDATE OF s`,
      [projectId],
    );
    return { quota: this.effectiveQuota(rows[0].quota_bytes), used: Number(rows[0].used_bytes) };
  }

  /** The project's own quota (PUT …/quota), else PROJECT_STORAGE_QUOTA; 0 means unlimited. */
  private effectiveQuota(projectQuota: string | null): number {
    return projectQuota === null ? this.config.PROJECT_STORAGE_QUOTA : Number(projectQuota);
  }

  /** What the project stores, what uploads in progress reserve, and the quota in force. */
  async usage(manager: EntityManager, project: ProjectContext): Promise<ProjectStorageDto> {
    const [row]: { quota_bytes: string | null; used_bytes: string | null; pending: string }[] = await manager.query(
      `SELECT p.storage_quota_bytes AS quota_bytes, s.used_bytes,
              (SELECT coalesce(sum(size), 0) FROM uploads WHERE project_id = p.id AND state IN ('open', 'completing')) AS pending
         FROM projects p LEFT JOIN project_storage s ON s.project_id = p.id
        WHERE p.id = $1`,
      [project.id],
    );
    return {
      project: project.name,
      quotaBytes: this.effectiveQuota(row.quota_bytes),
      quotaSource: row.quota_bytes === null ? 'default' : 'project',
      usedBytes: Number(row.used_bytes ?? 0),
      pendingUploadBytes: Number(row.pending),
    };
  }
}
