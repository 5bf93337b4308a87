import { randomUUID } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, lstat, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ArtifactStore,
  ByteRange,
  checkCompletedParts,
  CompletedPart,
  FileExtent,
  MultipartInfo,
  ObjectInfo,
  PartInput,
  StoreNotFoundError,
  StoreRuleError,
} from './artifact-store';
import { assertStoreKey } from './store-keys';

interface Segment {
  file: string;
  size: number;
}

/** A multipart object is kept as its part files plus an index, so completing it copies nothing. */
interface SegmentIndex {
  size: number;
  segments: Segment[];
}

const INDEX = 'index.json';

/**
 * Blobs on local disk under `<root>/objects`. Multipart uploads write each attempt of a part to
 * a file of its own under `<root>/multipart/<uploadId>`, so a late or failed attempt can never
 * touch bytes that were already assembled; completing renames the parts into the object.
 */
export class FsArtifactStore implements ArtifactStore {
  readonly driver = 'fs' as const;
  private readonly objects: string;
  private readonly multipart: string;
  private readonly tmp: string;

  constructor(root: string) {
    this.objects = path.join(root, 'objects');
    this.multipart = path.join(root, 'multipart');
    this.tmp = path.join(root, 'tmp');
  }

  async init(): Promise<void> {
    await Promise.all([this.objects, this.multipart, this.tmp].map((dir) => mkdir(dir, { recursive: true })));
  }

  /** Local disk: the directories are there and writable, a question the kernel answers at once. */
  async ready(): Promise<boolean> {
    return access(this.tmp, constants.W_OK).then(
      () => true,
      () => false,
    );
  }

  async put(key: string, body: Readable): Promise<{ size: number }> {
    const target = this.objectPath(key);
    const temp = path.join(this.tmp, randomUUID());
    let size = 0;
    body.on('data', (chunk: Buffer) => (size += chunk.length));
    try {
      await writeDurably(temp, body);
      await mkdir(path.dirname(target), { recursive: true });
      await rm(target, { recursive: true, force: true });
      await rename(temp, target);
      await syncDirectory(path.dirname(target));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { size };
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const extents = await this.localExtents(key, range);
    if (!extents) throw new StoreNotFoundError(key);
    return Readable.from(readExtents(extents), { objectMode: false });
  }

  async localExtents(key: string, range?: ByteRange): Promise<FileExtent[] | null> {
    const target = this.objectPath(key);
    const layout = await this.layout(target);
    if (!layout) return null;
    const start = range?.start ?? 0;
    const end = range?.end ?? layout.size - 1;
    if (!layout.segments) return end < start ? [] : [{ file: target, start, end }];
    const extents: FileExtent[] = [];
    let offset = 0;
    for (const segment of layout.segments) {
      const segmentStart = offset;
      const segmentEnd = offset + segment.size - 1;
      offset += segment.size;
      if (segmentEnd < start || segmentStart > end || segment.size === 0) continue;
      extents.push({
        file: path.join(target, segment.file),
        start: Math.max(start, segmentStart) - segmentStart,
        end: Math.min(end, segmentEnd) - segmentStart,
      });
    }
    return extents;
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const target = this.objectPath(key);
    const layout = await this.layout(target);
    return layout ? { key, size: layout.size, modifiedAt: layout.modifiedAt } : null;
  }

  async delete(key: string): Promise<void> {
    await rm(this.objectPath(key), { recursive: true, force: true });
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    yield* this.walk(this.objects, '', prefix);
  }

  async createMultipart(key: string): Promise<string> {
    assertStoreKey(key);
    const uploadId = randomUUID();
    const dir = path.join(this.multipart, uploadId);
    await mkdir(path.join(dir, 'parts'), { recursive: true });
    await writeFile(path.join(dir, 'upload.json'), JSON.stringify({ key, initiatedAt: new Date().toISOString() }));
    return uploadId;
  }

  async uploadPart(key: string, uploadId: string, part: PartInput, body: Readable): Promise<{ etag: string }> {
    const dir = await this.uploadDir(key, uploadId);
    const etag = randomUUID();
    const file = path.join(dir, 'parts', `${part.number}.${etag}`);
    const record = path.join(dir, 'parts', `${part.number}.json`);
    let size = 0;
    body.on('data', (chunk: Buffer) => (size += chunk.length));
    try {
      // Durable before it is acknowledged: Postgres will say the part is here, and a resumed
      // upload skips it.
      await writeDurably(file, body);
      if (size !== part.size) throw new Error(`part ${part.number} has ${size} bytes, expected ${part.size}`);
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
    // The record names the current attempt; writing it by rename makes replacing a part atomic.
    const previous = await readJson<{ etag: string }>(record);
    const temp = path.join(dir, `${part.number}.${etag}.json`);
    await writeFile(temp, JSON.stringify({ etag, size }), { flush: true });
    await rename(temp, record);
    if (previous) await rm(path.join(dir, 'parts', `${part.number}.${previous.etag}`), { force: true });
    return { etag };
  }

  async completeMultipart(key: string, uploadId: string, parts: CompletedPart[]): Promise<void> {
    checkCompletedParts(parts);
    const dir = await this.uploadDir(key, uploadId);
    const segments: Segment[] = [];
    for (const part of parts) {
      const record = await readJson<{ etag: string; size: number }>(path.join(dir, 'parts', `${part.number}.json`));
      if (!record || record.etag !== part.etag || record.size !== part.size) {
        throw new StoreRuleError('InvalidPart', `part ${part.number} was not uploaded with etag ${part.etag}`);
      }
      segments.push({ file: path.join('parts', `${part.number}.${part.etag}`), size: part.size });
    }
    const index: SegmentIndex = { size: segments.reduce((sum, segment) => sum + segment.size, 0), segments };
    await writeFile(path.join(dir, INDEX), JSON.stringify(index), { flush: true });
    await syncDirectory(path.join(dir, 'parts'));
    const target = this.objectPath(key);
    await mkdir(path.dirname(target), { recursive: true });
    await rm(target, { recursive: true, force: true });
    await rename(dir, target);
    // The version becomes ready on the strength of this rename: it must outlive a power cut.
    await syncDirectory(path.dirname(target));
  }

  async sweepTemporary(olderThan: Date): Promise<number> {
    let deleted = 0;
    for (const name of await readdir(this.tmp).catch(() => [] as string[])) {
      const file = path.join(this.tmp, name);
      const info = await stat(file).catch(() => null);
      if (!info || info.mtime >= olderThan) continue;
      await rm(file, { recursive: true, force: true });
      deleted++;
    }
    return deleted;
  }

  localPartFile(uploadId: string, number: number, etag: string): string {
    return path.join(this.multipart, /^[0-9a-f-]{36}$/.test(uploadId) ? uploadId : 'invalid', 'parts', `${number}.${etag}`);
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    assertStoreKey(key);
    if (!/^[0-9a-f-]{36}$/.test(uploadId)) return;
    await rm(path.join(this.multipart, uploadId), { recursive: true, force: true });
  }

  async *listMultipart(prefix: string): AsyncIterable<MultipartInfo> {
    for (const uploadId of await readdir(this.multipart).catch(() => [] as string[])) {
      const meta = await readJson<{ key: string; initiatedAt: string }>(path.join(this.multipart, uploadId, 'upload.json'));
      if (meta && meta.key.startsWith(prefix)) yield { key: meta.key, uploadId, initiatedAt: new Date(meta.initiatedAt) };
    }
  }

  private objectPath(key: string): string {
    return path.join(this.objects, ...assertStoreKey(key).split('/'));
  }

  private async uploadDir(key: string, uploadId: string): Promise<string> {
    const dir = path.join(this.multipart, /^[0-9a-f-]{36}$/.test(uploadId) ? uploadId : 'invalid');
    const meta = await readJson<{ key: string }>(path.join(dir, 'upload.json'));
    if (!meta || meta.key !== key) throw new StoreRuleError('NoSuchUpload', `no multipart upload ${uploadId} for ${key}`);
    return dir;
  }

  private async layout(target: string): Promise<{ size: number; modifiedAt: Date; segments?: Segment[] } | null> {
    const info = await lstat(target).catch(() => null);
    if (!info) return null;
    if (info.isFile()) return { size: info.size, modifiedAt: info.mtime };
    const index = await readJson<SegmentIndex>(path.join(target, INDEX));
    if (!index) return null;
    const indexInfo = await stat(path.join(target, INDEX));
    return { size: index.size, modifiedAt: indexInfo.mtime, segments: index.segments };
  }

  private async *walk(dir: string, keyPrefix: string, prefix: string): AsyncIterable<ObjectInfo> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const key = keyPrefix ? `${keyPrefix}/${entry.name}` : entry.name;
      if (!key.startsWith(prefix) && !prefix.startsWith(`${key}/`)) continue;
      const full = path.join(dir, entry.name);
      if (entry.isFile()) {
        const info = await stat(full);
        yield { key, size: info.size, modifiedAt: info.mtime };
      } else if (entry.isDirectory()) {
        const layout = await this.layout(full);
        if (layout) yield { key, size: layout.size, modifiedAt: layout.modifiedAt };
        else yield* this.walk(full, key, prefix);
      }
    }
  }
}

async function* readExtents(extents: FileExtent[]): AsyncIterable<Buffer> {
  for (const extent of extents) {
    for await (const chunk of createReadStream(extent.file, { start: extent.start, end: extent.end, highWaterMark: 1024 * 1024 })) yield chunk as Buffer;
  }
}

/**
 * Streams `body` into a new file, flushed to disk (fsync) before the promise resolves. The
 * caller deletes the file on failure.
 */
async function writeDurably(file: string, body: Readable): Promise<void> {
  const out = createWriteStream(file, { flags: 'wx', flush: true, highWaterMark: 1024 * 1024 });
  try {
    await pipeline(body, out);
  } catch (error) {
    // A body that fails at once rejects the pipeline before the file is even open; the caller's
    // rm would then run first and the open create the file after it. Wait for the stream to close.
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    throw error;
  }
}

/** Makes the names in a directory (a rename, a new file) survive a crash of the machine. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

