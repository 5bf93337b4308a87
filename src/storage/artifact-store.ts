import type { Readable } from 'node:stream';
import { DependencyUnavailableError } from '../common/errors/unavailable';
import type { FileExtent } from '../common/file-extent';

/**
 * S3's multipart rules, which every driver enforces so that what works on the filesystem also
 * works on AWS S3, MinIO and Ceph RGW: every part but the last is 5 MiB–5 GiB, at most 10,000
 * parts.
 */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;
export const MAX_PARTS = 10_000;

export interface ObjectInfo {
  key: string;
  size: number;
  modifiedAt: Date;
}

export interface MultipartInfo {
  key: string;
  uploadId: string;
  initiatedAt: Date;
}

/** An inclusive byte range, as HTTP Range expresses it. */
export interface ByteRange {
  start: number;
  end: number;
}

// Defined in common/: the hashing thread reads extents too, and common/ depends on nothing above it.
export type { FileExtent } from '../common/file-extent';

export interface PartInput {
  number: number;
  /** Where the part starts in the assembled object (number - 1) × part size. */
  offset: number;
  /** The exact byte count of the body. */
  size: number;
}

export interface CompletedPart {
  number: number;
  size: number;
  etag: string;
}

/**
 * Where blob bytes live. Keys are `/`-separated, made by the registry (never by clients).
 * Reads return streams; nothing here buffers an object whole.
 */
export interface ArtifactStore {
  readonly driver: 'fs' | 's3';
  /** Prepares the store (directories, the bucket); idempotent. */
  init(): Promise<void>;
  /**
   * Whether the store answers now, for readiness. Cheap enough to ask on every probe: a driver
   * that must ask a server does so at most once per few seconds and answers from that.
   */
  ready(): Promise<boolean>;
  /** Stores a stream of unknown length under `key`, replacing nothing until it has all of it. */
  put(key: string, body: Readable): Promise<{ size: number }>;
  /** The object's bytes, or the inclusive range of them. Throws StoreNotFoundError. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  stat(key: string): Promise<ObjectInfo | null>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix` (for garbage collection). */
  list(prefix: string): AsyncIterable<ObjectInfo>;

  createMultipart(key: string): Promise<string>;
  /**
   * Streams one part of exactly `part.size` bytes. If the body fails (wrong digest, short body,
   * client gone) nothing of it is stored and an earlier upload of that part stays as it was.
   * A successful retry of a part number replaces it.
   */
  uploadPart(key: string, uploadId: string, part: PartInput, body: Readable): Promise<{ etag: string }>;
  /** Assembles the parts (in number order, all present) into the object at `key`. */
  completeMultipart(key: string, uploadId: string, parts: CompletedPart[]): Promise<void>;
  /** Aborting an unknown or finished upload is not an error. */
  abortMultipart(key: string, uploadId: string): Promise<void>;
  /** Multipart uploads still open under `prefix` (for garbage collection). */
  listMultipart(prefix: string): AsyncIterable<MultipartInfo>;

  /**
   * Where the object's bytes (or the range of them) lie on local disk, in order, for drivers
   * that keep them there; null when it does not exist. Lets the HTTP layer send them through a
   * few reused buffers: a stream allocates a buffer per chunk, and a gigabyte of those keeps
   * the garbage collector busy for seconds.
   */
  localExtents?(key: string, range?: ByteRange): Promise<FileExtent[] | null>;

  /**
   * Deletes the driver's own temporary files last written before `olderThan` (a process that
   * died mid-write leaves them behind) and answers how many went. Drivers without any omit it.
   */
  sweepTemporary?(olderThan: Date): Promise<number>;

  /** The file on local disk that holds this attempt of a part, for drivers that keep parts there. */
  localPartFile?(uploadId: string, number: number, etag: string): string;

  /** A time-limited URL a plain HTTP client can GET, when the driver has such a thing. */
  presignedGet?(key: string, expirySeconds: number, downloadName: string): Promise<string>;
}

export class StoreNotFoundError extends Error {
  constructor(key: string) {
    super(`no object ${key}`);
    this.name = 'StoreNotFoundError';
  }
}

/** The store did not answer (down, unreachable, overloaded); the request may be sent again. */
export class StoreUnavailableError extends DependencyUnavailableError {
  readonly code = 'storage_unavailable' as const;

  constructor(cause: unknown) {
    super('The object store is unavailable; try again shortly', cause);
    this.name = 'StoreUnavailableError';
  }
}

/** A request that breaks S3's rules, refused by every driver the way real S3 refuses it. */
export class StoreRuleError extends Error {
  constructor(
    readonly code: 'EntityTooSmall' | 'EntityTooLarge' | 'InvalidPart' | 'InvalidPartOrder' | 'NoSuchUpload',
    message: string,
  ) {
    super(message);
    this.name = 'StoreRuleError';
  }
}

/** The checks S3 makes at CompleteMultipartUpload, shared by the drivers. */
export function checkCompletedParts(parts: CompletedPart[]): void {
  if (parts.length === 0 || parts.length > MAX_PARTS) {
    throw new StoreRuleError('InvalidPart', `a multipart upload has 1 to ${MAX_PARTS} parts (got ${parts.length})`);
  }
  parts.forEach((part, index) => {
    if (part.number !== index + 1) throw new StoreRuleError('InvalidPartOrder', `part ${index + 1} is missing or out of order`);
    if (part.size > MAX_PART_SIZE) throw new StoreRuleError('EntityTooLarge', `part ${part.number} is larger than 5 GiB`);
    if (index < parts.length - 1 && part.size < MIN_PART_SIZE) {
      throw new StoreRuleError('EntityTooSmall', `part ${part.number} is ${part.size} bytes; every part but the last needs at least 5 MiB`);
    }
  });
}

export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');
