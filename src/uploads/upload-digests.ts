import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { FileDigest, FileHashWorker } from '../common/file-hash-worker';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { ARTIFACT_STORE, ArtifactStore } from '../storage/artifact-store';
import { PartSpool } from './part-spool';
import { RunningDigests } from './running-digests';

/** A running digest no part reached for this long is let go (its complete hashes the whole file). */
const RUNNING_DIGEST_IDLE_MS = 10 * 60_000;

/**
 * The sha256 of an upload's file, computed while its parts arrive (so complete need not read
 * the file again) on a hashing thread: what part receiving feeds and completion takes.
 */
@Injectable()
export class UploadDigests implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(UploadDigests.name);
  private readonly hasher = new FileHashWorker();
  readonly running: RunningDigests;
  /** Local copies of parts for the running digest, when the store keeps its parts elsewhere. */
  spool: PartSpool | null;
  private idleSweep?: NodeJS.Timeout;

  constructor(
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(WHARF_CONFIG) config: WharfConfig,
  ) {
    this.running = new RunningDigests(this.hasher, config.UPLOAD_SPOOL_MAX_BYTES);
    this.spool = store.localPartFile || config.UPLOAD_SPOOL_MAX_BYTES === 0 ? null : new PartSpool(path.join(config.dataDir, 'spool'));
  }

  async onModuleInit(): Promise<void> {
    await this.spool?.init().catch((error: Error) => {
      // A read-only DATA_DIR: uploads work the same, complete reads the object back to check it.
      this.logger.warn(`no local copies of parts (${error.message}); complete will download each file from S3 to check its sha256`);
      this.spool = null;
    });
    this.idleSweep = setInterval(() => this.running.forgetIdle(RUNNING_DIGEST_IDLE_MS), 60_000).unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.idleSweep);
    await this.hasher.close();
    await this.spool?.close();
  }

  /** Reads an assembled file once: on the hashing thread when it lies on local disk. */
  async ofObject(key: string): Promise<FileDigest> {
    const extents = await this.store.localExtents?.(key);
    if (extents) {
      const id = `object:${randomUUID()}`;
      for (const extent of extents) this.hasher.update(id, extent);
      return this.hasher.digest(id);
    }
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of await this.store.get(key)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return { sha256: hash.digest('hex'), bytes };
  }
}
