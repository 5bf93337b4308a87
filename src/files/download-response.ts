import type { Response } from 'express';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WharfError } from '../common/errors/wharf-error';
import type { ByteRange, FileExtent } from '../storage/artifact-store';
import { etagMatches, parseRange } from './range';
import { sendExtents } from './send-extents';

/** A version's file as the registry holds it: what a download answers for. */
export interface StoredFile {
  path: string;
  size: number;
  sha256: string;
  storageKey: string;
  /** A draft's file may still be replaced, so caches must ask again. */
  replaceable: boolean;
}

/** Where a download gets the bytes from; the files service answers it. */
export interface FileContent {
  /** A URL the client may fetch the bytes from itself, or null to stream them here. */
  presignedUrl(file: StoredFile): Promise<string | null>;
  /** Throws when the store lost the bytes: HEAD must not promise what a GET would fail to send. */
  assertStored(file: StoredFile): Promise<void>;
  open(file: StoredFile, range: ByteRange | undefined): Promise<Readable | FileExtent[]>;
}

export interface DownloadRequest {
  method: 'GET' | 'HEAD';
  range: string | undefined;
  ifNoneMatch: string | undefined;
}

/**
 * The one place a download's HTTP is decided, for GET and HEAD alike: ETag (the sha256),
 * If-None-Match (304), Range (206, or 416 with the size), a presigned redirect (302, GET only),
 * and the body streamed from the store or sent from local disk.
 */
export async function respondWithFile(response: Response, request: DownloadRequest, file: StoredFile, content: FileContent): Promise<void> {
  const etag = `"${file.sha256}"`;
  const headers: Record<string, string> = {
    ETag: etag,
    'Accept-Ranges': 'bytes',
    'Content-Type': 'application/octet-stream',
    'Cache-Control': file.replaceable ? 'no-cache' : 'private, max-age=31536000, immutable',
    'X-Content-Sha256': file.sha256,
  };
  if (etagMatches(request.ifNoneMatch, etag)) return endWith(response, 304, headers);
  const range = parseRange(request.range, file.size);
  if (range === 'unsatisfiable') {
    // The problem filter answers it, like every other refusal; Content-Range says the size.
    response.set({ 'Content-Range': `bytes */${file.size}` });
    throw new WharfError('range_not_satisfiable', `${request.range} asks for bytes outside the ${file.size}-byte file`, { size: file.size });
  }
  const location = request.method === 'GET' ? await content.presignedUrl(file) : null;
  if (location) return endWith(response, 302, { ETag: etag, Location: location, 'Cache-Control': 'no-store' });
  const span: ByteRange = range ?? { start: 0, end: file.size - 1 };
  const length = file.size === 0 ? 0 : span.end - span.start + 1;
  headers['Content-Length'] = String(length);
  if (range) headers['Content-Range'] = `bytes ${span.start}-${span.end}/${file.size}`;
  const status = range ? 206 : 200;
  if (request.method === 'HEAD' || length === 0) {
    await content.assertStored(file);
    return endWith(response, status, headers);
  }
  const body = await content.open(file, range);
  response.status(status).set(headers);
  try {
    if (Array.isArray(body)) await sendExtents(response, body);
    else await pipeline(body, response);
    if (!response.writableEnded) response.end();
  } catch {
    // The client went away or the store failed midway: the status line is gone, so the
    // connection is cut and the client sees a short body it can resume with Range.
    response.destroy();
  }
}

function endWith(response: Response, status: number, headers: Record<string, string>): void {
  response.status(status).set(headers).end();
}
