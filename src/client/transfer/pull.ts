import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { WharfIntegrityError } from '../errors';
import { ManifestFile, WharfClient } from '../wharf-client';
import { hashFile } from './local-files';
import { NO_PROGRESS, ProgressFactory } from './progress-sink';
import { runPool } from './push';

export interface PullOptions {
  project: string;
  model: string;
  /** A reference inside the model: `:tag`, `@3`, `@sha256:…`. */
  ref: string;
  destination: string;
  concurrency: number;
  /** Bytes per ranged GET. */
  chunkSize: number;
  progress?: ProgressFactory;
}

export interface PullResult {
  project: string;
  model: string;
  version: number;
  manifestDigest: string | null;
  destination: string;
  files: { path: string; size: number; sha256: string; skipped: boolean }[];
  bytesReceived: number;
}

const PARTIAL_SUFFIX = '.wharf-partial';
const CHUNK_ATTEMPTS = 4;

interface Chunk {
  file: ManifestFile;
  handle: FileHandle;
  start: number;
  end: number;
}

/**
 * Downloads a version into a directory: every file in ranged GETs run in parallel, written to
 * a partial file, verified against the manifest's sha256, flushed, then renamed into place. A
 * file already there with the right digest is kept; a file that fails its digest never
 * replaces anything.
 */
export async function pull(client: WharfClient, options: PullOptions): Promise<PullResult> {
  const resolved = await client.resolve(options.project, options.model, options.ref);
  const manifest = await client.manifest(options.project, options.model, resolved.number);
  const destination = path.resolve(options.destination);
  const targets = manifest.items.map((file) => ({ file, target: placeOf(destination, file.path) }));
  const needed = await missingOrDifferent(targets);

  const total = needed.reduce((sum, entry) => sum + entry.file.size, 0);
  const progress = (options.progress ?? NO_PROGRESS)('downloading', total);
  let bytesReceived = 0;
  const handles = new Map<string, FileHandle>();
  try {
    const chunks: Chunk[] = [];
    for (const { file, target } of needed) {
      await mkdir(path.dirname(target), { recursive: true });
      const handle = await open(target + PARTIAL_SUFFIX, 'w');
      handles.set(file.path, handle);
      if (file.size > 0) await handle.truncate(file.size);
      for (let start = 0; start < file.size; start += options.chunkSize) {
        chunks.push({ file, handle, start, end: Math.min(file.size, start + options.chunkSize) - 1 });
      }
    }
    await runPool(chunks, options.concurrency, async (chunk) => {
      const received = await fetchChunk(client, options, resolved.number, chunk, (bytes) => progress.add(bytes));
      bytesReceived += received;
    });
    progress.finish();

    for (const entry of needed) await verifyAndPlace(entry, handles);
  } finally {
    for (const [filePath, handle] of handles) {
      await handle.close().catch(() => undefined);
      await rm(path.resolve(destination, ...filePath.split('/')) + PARTIAL_SUFFIX, { force: true });
    }
  }

  return {
    project: options.project,
    model: options.model,
    version: resolved.number,
    manifestDigest: manifest.manifestDigest,
    destination,
    files: targets.map(({ file }) => ({ ...file, skipped: !needed.some((entry) => entry.file.path === file.path) })),
    bytesReceived,
  };
}

/** Where a manifest path lands under the destination; never outside it. */
function placeOf(destination: string, filePath: string): string {
  const target = path.resolve(destination, ...filePath.split('/'));
  if (!target.startsWith(destination + path.sep)) throw new WharfIntegrityError(`refusing to write ${filePath} outside ${destination}`);
  return target;
}

/** The files not already there with the manifest's size and sha256. */
async function missingOrDifferent<T extends { file: ManifestFile; target: string }>(targets: T[]): Promise<T[]> {
  const needed: T[] = [];
  for (const entry of targets) {
    const existing = await stat(entry.target).catch(() => null);
    if (existing?.isFile() && existing.size === entry.file.size && (await hashFile(entry.target)).sha256 === entry.file.sha256) continue;
    needed.push(entry);
  }
  return needed;
}

/** Flushes a downloaded file and renames it into place once its sha256 is the manifest's; a wrong one is deleted. */
async function verifyAndPlace({ file, target }: { file: ManifestFile; target: string }, handles: Map<string, FileHandle>): Promise<void> {
  const handle = handles.get(file.path)!;
  await handle.sync();
  await handle.close();
  handles.delete(file.path);
  const digest = (await hashFile(target + PARTIAL_SUFFIX)).sha256;
  if (digest !== file.sha256) {
    await rm(target + PARTIAL_SUFFIX, { force: true });
    throw new WharfIntegrityError(`${file.path}: downloaded bytes have sha256 ${digest}, the manifest says ${file.sha256}; nothing was replaced`);
  }
  await rename(target + PARTIAL_SUFFIX, target);
}

/** One ranged GET written at its offset; a body cut short is asked for again from where it stopped. */
async function fetchChunk(client: WharfClient, options: PullOptions, version: number, chunk: Chunk, onBytes: (bytes: number) => void): Promise<number> {
  let position = chunk.start;
  for (let attempt = 1; ; attempt++) {
    try {
      const download = await client.download(options.project, options.model, version, chunk.file.path, { start: position, end: chunk.end });
      if (download.status !== 206 && !(download.status === 200 && position === 0 && chunk.end === chunk.file.size - 1)) {
        download.body.destroy();
        throw new WharfIntegrityError(`${chunk.file.path}: the registry answered ${download.status} to a range request`);
      }
      for await (const piece of download.body as AsyncIterable<Buffer>) {
        await chunk.handle.write(piece, 0, piece.length, position);
        position += piece.length;
        onBytes(piece.length);
      }
      if (position !== chunk.end + 1) throw new Error(`short body: ${position - chunk.start} of ${chunk.end + 1 - chunk.start} bytes`);
      return chunk.end + 1 - chunk.start;
    } catch (error) {
      if (error instanceof WharfIntegrityError || attempt >= CHUNK_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    }
  }
}
