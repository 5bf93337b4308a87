import { createHash } from 'node:crypto';
import { open, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { UploadDto } from '../../uploads/dto/upload.dto';
import { planUpload } from '../../uploads/upload-plan';
import { WharfApiError } from '../errors';
import { WharfClient } from '../wharf-client';
import { digestFile } from './file-digests';
import { assertUnchanged, changedWhilePushed, listLocalFiles, LocalFile } from './local-files';
import { NO_PROGRESS, ProgressFactory } from './progress-sink';

export interface PushOptions {
  project: string;
  model: string;
  source: string;
  concurrency: number;
  description?: string;
  metadata?: Record<string, unknown>;
  tag?: string;
  progress?: ProgressFactory;
  /** Where a push notes the draft it is filling, to resume it after an interruption. */
  stateDirectory: string;
}

export interface PushResult {
  project: string;
  model: string;
  version: number;
  manifestDigest: string | null;
  tag: string | null;
  files: { path: string; size: number; sha256: string; skipped: boolean }[];
  /** Bytes sent in this run (parts already on the registry are not sent again). */
  bytesSent: number;
  resumed: boolean;
}

/**
 * The part size the registry is expected to choose (its default UPLOAD_PART_SIZE): part digests
 * are computed for it while the file is hashed. A registry that chose another size gets each
 * part hashed as it is sent instead.
 */
const EXPECTED_PART_SIZE = 16 * 1024 * 1024;

/** A local file with the sha256 of each of its parts of `partSize` bytes. */
interface HashedFile extends LocalFile {
  partSize: number;
  partSha256: string[];
}

interface PartTask {
  file: HashedFile;
  upload: UploadDto;
  number: number;
}

/** Which draft an interrupted push of the same files to the same model was filling. */
function stateFile(url: string, options: PushOptions, files: LocalFile[]): string {
  const identity = createHash('sha256')
    .update(JSON.stringify([url, options.project, options.model, files.map((file) => [file.path, file.size, file.sha256])]))
    .digest('hex');
  return path.join(options.stateDirectory, `${identity}.json`);
}

async function readState(file: string): Promise<{ version: number } | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as { version: number };
  } catch {
    return null;
  }
}

/**
 * Pushes a file or a directory as a new version: hash locally, open one upload session per
 * file (files the project already holds are attached without sending a byte), send the
 * missing parts in parallel, complete, commit, tag. Interrupted, it leaves the draft and its
 * received parts on the registry and its own note of the draft; run again with the same
 * files, it sends only what the registry does not have yet.
 */
export async function push(client: WharfClient, options: PushOptions): Promise<PushResult> {
  const progress = options.progress ?? NO_PROGRESS;
  const files = await hashFiles(await listLocalFiles(options.source), progress);

  const state = stateFile(client.http.url, options, files);
  const { version, resumed, committed: alreadyCommitted } = await draftVersion(client, options, await readState(state));
  await mkdir(path.dirname(state), { recursive: true });
  await writeFile(state, JSON.stringify({ version }));

  const { uploads, tasks } = alreadyCommitted ? { uploads: new Map<string, UploadDto>(), tasks: [] } : await openUploads(client, options, version, files);
  const bytesSent = await sendParts(client, tasks, options.concurrency, progress);
  if (!alreadyCommitted) await completeUploads(client, files, uploads);

  const committed = await client.commitVersion(options.project, options.model, version);
  if (options.tag) await client.moveTag(options.project, options.model, options.tag, { version, reason: `wharf push` });
  await rm(state, { force: true });
  return {
    project: options.project,
    model: options.model,
    version,
    manifestDigest: committed.manifestDigest,
    tag: options.tag ?? null,
    files: files.map((file) => ({ path: file.path, size: file.size, sha256: file.sha256, skipped: uploads.get(file.path)?.deduplicated ?? true })),
    bytesSent,
    resumed,
  };
}

/** One read per file for both digests (file and parts); sending then only reads the parts it sends. */
async function hashFiles(listed: Awaited<ReturnType<typeof listLocalFiles>>, progress: ProgressFactory): Promise<HashedFile[]> {
  const hashing = progress('hashing', await sizes(listed));
  const files: HashedFile[] = [];
  for (const entry of listed) {
    const partSizeFor = (size: number) => planUpload(size, EXPECTED_PART_SIZE).partSize;
    files.push({ ...entry, ...(await digestFile(entry.absolute, partSizeFor, (bytes) => hashing.add(bytes))) });
  }
  hashing.finish();
  return files;
}

/** One session per file (or the one already open), and the parts the registry still lacks. */
async function openUploads(client: WharfClient, options: PushOptions, version: number, files: HashedFile[]): Promise<{ uploads: Map<string, UploadDto>; tasks: PartTask[] }> {
  const uploads = new Map<string, UploadDto>();
  const tasks: PartTask[] = [];
  for (const file of files) {
    let upload = await client.createUpload(options.project, options.model, version, { path: file.path, size: file.size, sha256: file.sha256 });
    if (upload.state === 'open') upload = await client.getUpload(upload.id);
    uploads.set(file.path, upload);
    if (upload.state !== 'open') continue;
    const received = new Set(upload.parts.filter((part) => part.size === partLength(upload, part.number)).map((part) => part.number));
    for (let number = 1; number <= upload.partCount; number++) {
      if (!received.has(number)) tasks.push({ file, upload, number });
    }
  }
  return { uploads, tasks };
}

/** Sends the parts `concurrency` at a time; answers the bytes sent. */
async function sendParts(client: WharfClient, tasks: PartTask[], concurrency: number, progress: ProgressFactory): Promise<number> {
  const sending = progress('uploading', tasks.reduce((sum, task) => sum + partLength(task.upload, task.number), 0));
  let bytesSent = 0;
  // One buffer per part in flight, used again for the next part: a fresh 16 MiB buffer per
  // part is a gigabyte of garbage per gigabyte pushed.
  const spare: Buffer[] = [];
  await runPool(tasks, concurrency, async (task) => {
    await assertUnchanged(task.file);
    const reused = spare.pop();
    const buffer = reused && reused.length >= task.upload.partSize ? reused : Buffer.allocUnsafe(task.upload.partSize);
    try {
      const body = await readPart(task.file, task.upload, task.number, buffer);
      const known = task.upload.partSize === task.file.partSize ? task.file.partSha256[task.number - 1] : undefined;
      const sha256 = known ?? createHash('sha256').update(body).digest('hex');
      await client.putPart(task.upload.id, task.number, body, sha256).catch((error: unknown) => {
        // The digest was taken when the file was hashed: bytes that differ now changed since.
        if (known && error instanceof WharfApiError && error.code === 'part_digest_mismatch') throw changedWhilePushed(task.file);
        throw error;
      });
      bytesSent += body.length;
      sending.add(body.length);
    } finally {
      spare.push(buffer);
    }
  });
  sending.finish();
  return bytesSent;
}

async function completeUploads(client: WharfClient, files: HashedFile[], uploads: Map<string, UploadDto>): Promise<void> {
  for (const file of files) {
    const upload = uploads.get(file.path)!;
    if (upload.state === 'complete') continue;
    await assertUnchanged(file);
    try {
      await client.completeUpload(upload.id);
    } catch (error) {
      if (error instanceof WharfApiError && error.code === 'file_digest_mismatch') throw changedWhilePushed(file);
      throw error;
    }
  }
}

async function sizes(files: { absolute: string }[]): Promise<number> {
  let total = 0;
  for (const file of files) {
    const handle = await open(file.absolute, 'r');
    try {
      total += (await handle.stat()).size;
    } finally {
      await handle.close();
    }
  }
  return total;
}

/** The draft an interrupted push of the same files left, if it is still a draft; else a new one. */
async function draftVersion(
  client: WharfClient,
  options: PushOptions,
  state: { version: number } | null,
): Promise<{ version: number; resumed: boolean; committed: boolean }> {
  if (state) {
    const previous = await client.getVersion(options.project, options.model, state.version).catch((error: unknown) => {
      if (error instanceof WharfApiError && error.status === 404) return null;
      throw error;
    });
    // A ready one was committed by a run that stopped before forgetting it: only the tag is left to do.
    if (previous?.state === 'draft' || previous?.state === 'ready') return { version: previous.number, resumed: true, committed: previous.state === 'ready' };
  }
  const created = await client.createVersion(options.project, options.model, { description: options.description, metadata: options.metadata });
  return { version: created.number, resumed: false, committed: false };
}

function partLength(upload: UploadDto, number: number): number {
  return Math.min(upload.partSize, upload.size - (number - 1) * upload.partSize);
}

/** Reads part `number` of `file` into the start of `into` (at least a part long) and answers that view. */
async function readPart(file: LocalFile, upload: UploadDto, number: number, into: Buffer): Promise<Buffer> {
  const length = partLength(upload, number);
  const buffer = into.subarray(0, length);
  const handle = await open(file.absolute, 'r');
  try {
    let read = 0;
    while (read < length) {
      const { bytesRead } = await handle.read(buffer, read, length - read, (number - 1) * upload.partSize + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    if (read !== length) {
      throw changedWhilePushed(file);
    }
  } finally {
    await handle.close();
  }
  return buffer;
}

/** Runs `work` over `items` with at most `concurrency` at once; the first failure stops the rest. */
export async function runPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  let failure: unknown;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, async () => {
      for (let item = queue.shift(); item !== undefined && failure === undefined; item = queue.shift()) {
        try {
          await work(item);
        } catch (error) {
          failure ??= error;
        }
      }
    }),
  );
  if (failure !== undefined) throw failure;
}
