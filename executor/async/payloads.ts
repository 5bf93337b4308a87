import * as Minio from 'minio';
import { minioClients } from '../../src/storage/minio-clients';
import type { Readable } from 'node:stream';

export interface PayloadStoreOptions {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  bucket: string;
  deployment: string;
}

/**
 * Request bodies and results too large for a message or a job record, in S3 under
 * `<deployment>/bodies/<id>` and `<deployment>/results/<id>/<attempt>` (one key per attempt, so a
 * redelivered message that loses the race to store its result never overwrites the winner's).
 * Streamed both ways through the minio client; never held whole in memory.
 */
export class PayloadStore {
  private readonly client: Minio.Client;
  /** A stream cannot be sent twice, so the uploading client never retries by itself. */
  private readonly streaming: Minio.Client;
  readonly bucket: string;
  private readonly prefix: string;

  constructor(options: PayloadStoreOptions) {
    ({ client: this.client, streaming: this.streaming } = minioClients(options));
    this.bucket = options.bucket;
    this.prefix = `${options.deployment}/`;
  }

  async init(): Promise<void> {
    if (await this.client.bucketExists(this.bucket)) return;
    try {
      await this.client.makeBucket(this.bucket);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw error;
    }
  }

  bodyKey(id: string): string {
    return `${this.prefix}bodies/${id}`;
  }

  resultKey(id: string, attempt: string): string {
    return `${this.prefix}results/${id}/${attempt}`;
  }

  async put(key: string, body: Readable, contentType?: string): Promise<void> {
    await this.streaming.putObject(this.bucket, key, body, undefined, contentType ? { 'Content-Type': contentType } : {});
  }

  get(key: string): Promise<Readable> {
    return this.client.getObject(this.bucket, key);
  }

  async remove(key: string): Promise<void> {
    await this.client.removeObject(this.bucket, key).catch(() => undefined);
  }

  /** Deletes this deployment's objects older than `maxAgeMs` (expired results, orphaned bodies). */
  async sweep(maxAgeMs: number): Promise<number> {
    const cutoff = Date.now() - maxAgeMs;
    const old: string[] = [];
    const listing = this.client.listObjectsV2(this.bucket, this.prefix, true);
    for await (const item of listing as AsyncIterable<{ name?: string; lastModified?: Date }>) {
      if (item.name && item.lastModified && item.lastModified.getTime() < cutoff) old.push(item.name);
    }
    for (let i = 0; i < old.length; i += 1000) await this.client.removeObjects(this.bucket, old.slice(i, i + 1000));
    return old.length;
  }
}
