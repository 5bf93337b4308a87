import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor } from '../auth/auth-context';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { blobRepository } from '../blobs/blob.repository';
import { projectStorageRepository } from '../quota/project-storage.repository';
import { uploadRepository } from '../uploads/upload.repository';
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
    const cutoff = new Date(Date.now() - this.config.GC_GRACE_SECONDS * 1000);
    const report: GcReport = {
      expiredUploads: await this.expireIdleUploads(),
      deletedUploadRows: await uploadRepository.deleteFinishedBefore(this.dataSource, this.config.UPLOAD_IDLE_TIMEOUT_SECONDS),
      deletedBlobs: await this.deleteUnreferencedBlobs(),
      abortedOrphanMultiparts: await this.abortOrphanMultiparts(cutoff),
      deletedOrphanObjects: await this.deleteOrphanObjects(cutoff),
      deletedTemporaryFiles: (await this.store.sweepTemporary?.(cutoff)) ?? 0,
    };
    if (Object.values(report).some((count) => count > 0)) this.logger.log(`garbage collection: ${JSON.stringify(report)}`);
    return report;
  }

  private async expireIdleUploads(): Promise<number> {
    const expired = await uploadRepository.expireIdle(this.dataSource);
    for (const upload of expired) {
      await this.store.abortMultipart(upload.storage_key, upload.store_upload_id);
      await this.store.delete(upload.storage_key);
    }
    return expired.length;
  }

  private async deleteUnreferencedBlobs(): Promise<number> {
    let deleted = 0;
    for (const candidate of await blobRepository.unreferenced(this.dataSource, this.config.GC_GRACE_SECONDS, BATCH)) {
      const key = await this.deleteBlob(candidate.projectId, candidate.sha256);
      if (key) {
        await this.store.delete(key);
        deleted++;
      }
    }
    return deleted;
  }

  private async abortOrphanMultiparts(cutoff: Date): Promise<number> {
    let aborted = 0;
    for await (const upload of this.store.listMultipart(BLOB_PREFIX)) {
      if (upload.initiatedAt.getTime() >= cutoff.getTime()) continue;
      if (await uploadRepository.isLiveStoreUpload(this.dataSource, upload.uploadId)) continue;
      await this.store.abortMultipart(upload.key, upload.uploadId);
      aborted++;
    }
    return aborted;
  }

  private async deleteOrphanObjects(cutoff: Date): Promise<number> {
    let deleted = 0;
    let batch: string[] = [];
    const sweep = async () => {
      const keep = await this.knownKeys(batch);
      for (const key of batch.filter((candidate) => !keep.has(candidate))) {
        await this.store.delete(key);
        deleted++;
      }
      batch = [];
    };
    for await (const object of this.store.list(BLOB_PREFIX)) {
      if (object.modifiedAt.getTime() >= cutoff.getTime()) continue;
      batch.push(object.key);
      if (batch.length >= BATCH) await sweep();
    }
    if (batch.length) await sweep();
    return deleted;
  }

  /**
   * Of these keys, those a blob or a live upload holds, read in one snapshot: read apart, an
   * upload completing between the two reads would be in neither and lose its bytes.
   */
  private knownKeys(keys: string[]): Promise<Set<string>> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const held = [...(await blobRepository.knownKeys(manager, keys)), ...(await uploadRepository.liveKeys(manager, keys))];
      return new Set(held);
    });
  }

  /** Deletes one unreferenced blob row and returns its key, or null when it is referenced again. */
  private async deleteBlob(projectId: string, sha256: string): Promise<string | null> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const deleted = await blobRepository.deleteIfUnreferenced(manager, projectId, sha256);
        if (!deleted) return null;
        await projectStorageRepository.release(manager, projectId, deleted.size);
        return deleted.storageKey;
      });
    } catch (error) {
      // 23503: a file came to reference the blob while we tried; it stays.
      if ((error as { code?: string }).code === '23503' || (error as { driverError?: { code?: string } }).driverError?.code === '23503') return null;
      throw error;
    }
  }
}
