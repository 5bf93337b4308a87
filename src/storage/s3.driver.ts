import { Logger } from '@nestjs/common';
import * as Minio from 'minio';
import { minioClients } from './minio-clients';
import { Readable } from 'node:stream';
import {
  ArtifactStore,
  ByteRange,
  checkCompletedParts,
  CompletedPart,
  MultipartInfo,
  ObjectInfo,
  PartInput,
  StoreNotFoundError,
  StoreRuleError,
  StoreUnavailableError,
} from './artifact-store';
import { chunked } from './chunked';
import { isStoreUnavailable } from './s3-errors';
import { StoreHealth } from './store-health';
import { assertStoreKey } from './store-keys';

export interface S3Options {
  endpoint: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  region: string;
}

/** Streams of unknown length (form uploads) go up in parts of this size, one buffer at a time. */
const PUT_CHUNK = 8 * 1024 * 1024;

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload']);

function errorCode(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}

/**
 * Blobs in an S3 bucket through the minio client, path-style, so it works with MinIO, AWS S3 and
 * Ceph RGW. Parts are streamed to S3 as they arrive (UNSIGNED-PAYLOAD, with a Content-Length),
 * never buffered whole.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly driver = 's3' as const;
  readonly client: Minio.Client;
  /** Signs streamed bodies as UNSIGNED-PAYLOAD: a stream's sha256 is not known before it is sent. */
  private readonly streaming: Minio.Client;
  private readonly bucket: string;
  private readonly logger = new Logger('S3ArtifactStore');
  readonly health = new StoreHealth(() => this.probe());
  /** The one bucket re-creation in flight in this process (see recreateBucket). */
  private recreating: Promise<void> | undefined;

  constructor(private readonly options: S3Options) {
    ({ client: this.client, streaming: this.streaming } = minioClients(options));
    this.bucket = options.bucket;
  }

  async init(): Promise<void> {
    if (await this.client.bucketExists(this.bucket)) return;
    try {
      await this.client.makeBucket(this.bucket, this.options.region);
    } catch (error) {
      // Another replica created it first.
      if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(errorCode(error) ?? '')) throw error;
    }
  }

  ready(): Promise<boolean> {
    return this.health.ready();
  }

  /** The bucket answers; a bucket that is gone (the store came back empty) is made again. */
  private async probe(): Promise<void> {
    if (!(await this.client.bucketExists(this.bucket))) await this.recreateBucket();
  }

  /**
   * The store answered NoSuchBucket: it lost everything, or someone deleted the bucket. Making
   * it again is what init() does at start; every replica may race to it and all but one are
   * told it exists, which init() takes as done. One attempt at a time per process.
   */
  private recreateBucket(): Promise<void> {
    this.recreating ??= (async () => {
      this.logger.warn(`bucket "${this.bucket}" is gone; creating it again (objects it held are lost)`);
      await this.init();
    })()
      .catch((error: unknown) => {
        throw this.classify(error);
      })
      .finally(() => (this.recreating = undefined));
    return this.recreating;
  }

  /** An outage becomes StoreUnavailableError (and readiness hears of it); anything else stays. */
  private classify(error: unknown): unknown {
    if (error instanceof StoreUnavailableError || !isStoreUnavailable(error)) return error;
    this.health.failed();
    return new StoreUnavailableError(error);
  }

  /**
   * Runs one call to S3, classifying its failure. On NoSuchBucket the bucket is made again and
   * a `repeatable` call (no stream body, no effect before it failed) runs once more; any other
   * is answered unavailable, and its client sends it again.
   */
  private async call<T>(work: () => Promise<T>, repeatable: boolean): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (errorCode(error) !== 'NoSuchBucket') throw this.classify(error);
      await this.recreateBucket();
      if (!repeatable) throw new StoreUnavailableError(error);
      return work().catch((again: unknown) => {
        throw errorCode(again) === 'NoSuchBucket' ? new StoreUnavailableError(again) : this.classify(again);
      });
    }
  }

  async put(key: string, body: Readable): Promise<{ size: number }> {
    assertStoreKey(key);
    // Read up to one chunk: a small object is one PUT, a larger one a multipart upload whose
    // parts (all but the last) are PUT_CHUNK bytes, so at most one chunk is in memory.
    const chunks = chunked(body, PUT_CHUNK);
    const first = await chunks.next();
    const firstChunk = first.done ? Buffer.alloc(0) : first.value;
    if (firstChunk.length < PUT_CHUNK) {
      await this.call(() => this.client.putObject(this.bucket, key, firstChunk, firstChunk.length), true);
      return { size: firstChunk.length };
    }
    const uploadId = await this.createMultipart(key);
    try {
      const parts: CompletedPart[] = [];
      let size = 0;
      for (let chunk: Buffer | undefined = firstChunk; chunk; ) {
        const number = parts.length + 1;
        const { etag } = await this.call(
          () => this.client.uploadPart({ bucketName: this.bucket, objectName: key, uploadID: uploadId, partNumber: number, headers: {} }, chunk!),
          false,
        );
        parts.push({ number, size: chunk.length, etag });
        size += chunk.length;
        const next = await chunks.next();
        chunk = next.done ? undefined : next.value;
      }
      await this.completeMultipart(key, uploadId, parts);
      return { size };
    } catch (error) {
      await this.abortMultipart(key, uploadId).catch(() => undefined);
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    assertStoreKey(key);
    try {
      return await this.call(
        () => (range ? this.client.getPartialObject(this.bucket, key, range.start, range.end - range.start + 1) : this.client.getObject(this.bucket, key)),
        true,
      );
    } catch (error) {
      if (NOT_FOUND.has(errorCode(error) ?? '')) throw new StoreNotFoundError(key);
      throw error;
    }
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    assertStoreKey(key);
    try {
      const info = await this.call(() => this.client.statObject(this.bucket, key), true);
      return { key, size: info.size, modifiedAt: info.lastModified };
    } catch (error) {
      if (NOT_FOUND.has(errorCode(error) ?? '')) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    assertStoreKey(key);
    await this.call(() => this.client.removeObject(this.bucket, key), true);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    try {
      for await (const item of this.client.listObjectsV2(this.bucket, prefix, true) as AsyncIterable<Minio.BucketItem>) {
        if (item.name) yield { key: item.name, size: item.size, modifiedAt: item.lastModified };
      }
    } catch (error) {
      // A bucket that is gone holds nothing: made again, it is listed as empty.
      if (errorCode(error) === 'NoSuchBucket') return void (await this.recreateBucket());
      throw this.classify(error);
    }
  }

  async createMultipart(key: string): Promise<string> {
    assertStoreKey(key);
    return this.call(() => this.client.initiateNewMultipartUpload(this.bucket, key, {}), true);
  }

  async uploadPart(key: string, uploadId: string, part: PartInput, body: Readable): Promise<{ etag: string }> {
    assertStoreKey(key);
    const query = `uploadId=${encodeURIComponent(uploadId)}&partNumber=${part.number}`;
    // S3 stores a part only once it has all Content-Length bytes, so a body that fails midway
    // (the caller holds back its last bytes until they are verified) leaves no part behind.
    const response = await this.call(
      () =>
        this.streaming.makeRequestStreamAsync(
          { method: 'PUT', bucketName: this.bucket, objectName: key, query, headers: { 'content-length': String(part.size) } },
          body,
          '',
          [200],
          this.options.region,
        ),
      false,
    );
    response.resume();
    const etag = String(response.headers.etag ?? '').replace(/^"|"$/g, '');
    if (!etag) throw new Error(`S3 answered part ${part.number} without an ETag`);
    return { etag };
  }

  async completeMultipart(key: string, uploadId: string, parts: CompletedPart[]): Promise<void> {
    checkCompletedParts(parts);
    try {
      await this.client.completeMultipartUpload(
        this.bucket,
        assertStoreKey(key),
        uploadId,
        parts.map((part) => ({ part: part.number, etag: part.etag })),
      );
    } catch (error) {
      // Ceph RGW may answer CompleteMultipartUpload with an empty ETag, which the client fails
      // to parse; the object is there all the same, as a stat of the right size shows.
      const code = errorCode(error);
      if (code === 'EntityTooSmall' || code === 'InvalidPart' || code === 'InvalidPartOrder' || code === 'NoSuchUpload') {
        throw new StoreRuleError(code, (error as Error).message);
      }
      if (code === 'NoSuchBucket') {
        // The parts went with the bucket: this upload can never complete.
        await this.recreateBucket();
        throw new StoreRuleError('NoSuchUpload', 'the bucket and the parts in it are gone');
      }
      if (isStoreUnavailable(error)) throw this.classify(error);
      const info = await this.stat(key);
      const expected = parts.reduce((sum, part) => sum + part.size, 0);
      if (!info || info.size !== expected) throw error;
    }
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.abortMultipartUpload(this.bucket, assertStoreKey(key), uploadId);
    } catch (error) {
      if (NOT_FOUND.has(errorCode(error) ?? '')) return;
      if (errorCode(error) === 'NoSuchBucket') return void (await this.recreateBucket());
      throw this.classify(error);
    }
  }

  async *listMultipart(prefix: string): AsyncIterable<MultipartInfo> {
    let keyMarker = '';
    let uploadIdMarker = '';
    for (;;) {
      let result: Awaited<ReturnType<Minio.Client['listIncompleteUploadsQuery']>>;
      try {
        result = await this.client.listIncompleteUploadsQuery(this.bucket, prefix, keyMarker, uploadIdMarker, '');
      } catch (error) {
        if (errorCode(error) === 'NoSuchBucket') return void (await this.recreateBucket());
        throw this.classify(error);
      }
      for (const upload of result.uploads) {
        yield { key: upload.key, uploadId: upload.uploadId, initiatedAt: new Date(upload.initiated) };
      }
      if (!result.isTruncated || !result.nextKeyMarker) return;
      keyMarker = result.nextKeyMarker;
      uploadIdMarker = result.nextUploadIdMarker;
    }
  }

  async presignedGet(key: string, expirySeconds: number, downloadName: string): Promise<string> {
    return this.client.presignedGetObject(this.bucket, assertStoreKey(key), expirySeconds, {
      'response-content-disposition': `attachment; filename="${downloadName.replace(/["\\\r\n]/g, '_')}"`,
    });
  }
}
