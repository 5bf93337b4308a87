import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor } from '../auth/auth-context';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { returning } from '../database/returning';
import { ARTIFACT_STORE, ArtifactStore } from '../storage/artifact-store';
import { BLOB_PREFIX } from '../storage/store-keys';

export interface GcReport {
  expiredUploads: number;
  deletedUploadRows: number;
  deletedBlobs: number;
  abortedOrphanMultiparts: number;
  deletedOrphanObjects: number;
  deletedTemporaryFiles: number;
}

const BATCH = 500;
const LIVE = `('open', 'completing')`;

/**
 * Garbage collection, safe to run on every replica at once:
 * 1. uploads idle past their expiry (or whose version was deleted) are expired and their
 *    multipart uploads aborted in the store;
 * 2. finished upload rows are kept for UPLOAD_IDLE_TIMEOUT_SECONDS (so a client resuming late
 *    still learns what became of its upload), then deleted;
 * 3. blobs no file references are deleted. The delete runs in its own transaction and the
 *    files → blobs foreign key is RESTRICT: an upload attaching the same digest meanwhile holds
 *    a share lock on the blob row, so the delete either waits and then fails (the blob stays)
 *    or runs first (the upload then stores a fresh copy under its own key);
 * 4. store leftovers no row knows about (a replica died between the store and the database)
 *    are removed once older than the grace period;
 * 5. so are the store's temporary files (a replica died while writing a form upload).
 */
@Injectable()
export class GcService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(GcService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<GcReport> | undefined;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.GC_INTERVAL_SECONDS <= 0) return;
    this.timer = setInterval(() => {
      this.run().catch((error: Error) => this.logger.error(`garbage collection failed: ${error.message}`));
    }, this.config.GC_INTERVAL_SECONDS * 1000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** A pass an admin asked for through the API, audited with what it removed. */
  async runRequested(actor: Actor): Promise<GcReport> {
    const report = await this.run();
    await this.dataSource.transaction((manager) =>
      this.audit.record(manager, actor, { action: 'gc.run', target: 'gc', details: { ...report } }),
    );
    return report;
  }

  /** One pass; concurrent calls in this process share it. */
  run(): Promise<GcReport> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<GcReport> {
    const report: GcReport = { expiredUploads: 0, deletedUploadRows: 0, deletedBlobs: 0, abortedOrphanMultiparts: 0, deletedOrphanObjects: 0, deletedTemporaryFiles: 0 };
    const grace = this.config.GC_GRACE_SECONDS;

    const expired = await returning<{ storage_key: string; store_upload_id: string }>(
      this.dataSource,
      `UPDATE uploads SET state = 'expired', updated_at = now()
        WHERE id IN (SELECT id FROM uploads WHERE state IN ${LIVE} AND (expires_at <= now() OR version_id IS NULL)
                     FOR UPDATE SKIP LOCKED)
        RETURNING storage_key, store_upload_id`,
      [],
    );
    for (const upload of expired) {
      await this.store.abortMultipart(upload.storage_key, upload.store_upload_id);
      await this.store.delete(upload.storage_key);
      report.expiredUploads++;
    }

    const deletedRows = await returning(
      this.dataSource,
      `DELETE FROM uploads WHERE state NOT IN ${LIVE} AND updated_at < now() - make_interval(secs => $1) RETURNING id`,
      [this.config.UPLOAD_IDLE_TIMEOUT_SECONDS],
    );
    report.deletedUploadRows = deletedRows.length;

    const candidates: { project_id: string; sha256: string }[] = await this.dataSource.query(
      `SELECT b.project_id, b.sha256 FROM blobs b
        WHERE b.created_at < now() - make_interval(secs => $1)
          AND NOT EXISTS (SELECT 1 FROM version_files f WHERE f.project_id = b.project_id AND f.sha256 = b.sha256)
        LIMIT ${BATCH}`,
      [grace],
    );
    for (const candidate of candidates) {
      const key = await this.deleteBlob(candidate.project_id, candidate.sha256);
      if (key) {
        await this.store.delete(key);
        report.deletedBlobs++;
      }
    }

    const cutoff = Date.now() - grace * 1000;
    for await (const upload of this.store.listMultipart(BLOB_PREFIX)) {
      if (upload.initiatedAt.getTime() >= cutoff) continue;
      const known: unknown[] = await this.dataSource.query(`SELECT 1 FROM uploads WHERE store_upload_id = $1 AND state IN ${LIVE}`, [upload.uploadId]);
      if (known.length) continue;
      await this.store.abortMultipart(upload.key, upload.uploadId);
      report.abortedOrphanMultiparts++;
    }

    let batch: string[] = [];
    const sweep = async () => {
      const known: { key: string }[] = await this.dataSource.query(
        `SELECT storage_key AS key FROM blobs WHERE storage_key = ANY($1)
         UNION SELECT storage_key FROM uploads WHERE storage_key = ANY($1) AND state IN ${LIVE}`,
        [batch],
      );
      const keep = new Set(known.map((row) => row.key));
      for (const key of batch.filter((candidate) => !keep.has(candidate))) {
        await this.store.delete(key);
        report.deletedOrphanObjects++;
      }
      batch = [];
    };
    for await (const object of this.store.list(BLOB_PREFIX)) {
      if (object.modifiedAt.getTime() >= cutoff) continue;
      batch.push(object.key);
      if (batch.length >= BATCH) await sweep();
    }
    if (batch.length) await sweep();

    report.deletedTemporaryFiles = (await this.store.sweepTemporary?.(new Date(cutoff))) ?? 0;

    if (Object.values(report).some((count) => count > 0)) this.logger.log(`garbage collection: ${JSON.stringify(report)}`);
    return report;
  }

  /** Deletes one unreferenced blob row and returns its key, or null when it is referenced again. */
  private async deleteBlob(projectId: string, sha256: string): Promise<string | null> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const rows = await returning<{ storage_key: string; size: string }>(
          manager,
          `DELETE FROM blobs b WHERE b.project_id = $1 AND b.sha256 = $2
              AND NOT EXISTS (SELECT 1 FROM version_files f WHERE f.project_id = b.project_id AND f.sha256 = b.sha256)
           RETURNING storage_key, size`,
          [projectId, sha256],
        );
        if (!rows[0]) return null;
        await manager.query(`UPDATE project_storage SET used_bytes = greatest(used_bytes - $2, 0) WHERE project_id = $1`, [projectId, rows[0].size]);
        return rows[0].storage_key;
      });
    } catch (error) {
      // 23503: a file came to reference the blob while we tried; it stays.
      if ((error as { code?: string }).code === '23503' || (error as { driverError?: { code?: string } }).driverError?.code === '23503') return null;
      throw error;
    }
  }
}
