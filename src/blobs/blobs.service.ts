import { Inject, Injectable } from '@nestjs/common';
import { Queryable } from '../database/queryable';
import { StorageQuota } from '../quota/storage-quota.service';
import { blobRepository, BlobRow } from './blob.repository';

export type { BlobRow } from './blob.repository';

/** The project's content-addressed blobs. Every method runs inside the caller's transaction. */
@Injectable()
export class BlobsService {
  constructor(@Inject(StorageQuota) private readonly quota: StorageQuota) {}

  /** The blob with this digest in the project, locked against garbage collection until commit. */
  find(db: Queryable, projectId: string, sha256: string): Promise<BlobRow | null> {
    return blobRepository.findForShare(db, projectId, sha256);
  }

  /**
   * Records verified bytes as the project's blob with this digest. When the project already
   * has that blob (a concurrent upload of the same content won), the existing one is kept and
   * `created` is false: the caller deletes its own copy.
   */
  async register(db: Queryable, projectId: string, sha256: string, size: number, storageKey: string): Promise<{ blob: BlobRow; created: boolean }> {
    const blob = { sha256, size, storageKey };
    if (!(await blobRepository.insertIfAbsent(db, projectId, blob))) {
      const existing = await this.find(db, projectId, sha256);
      if (!existing) throw new Error(`blob ${sha256} vanished while it was being registered`);
      return { blob: existing, created: false };
    }
    await this.quota.charge(db, projectId, size);
    return { blob, created: true };
  }
}
