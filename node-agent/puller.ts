import * as fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ManifestFile, WharfClient } from '../src/client/wharf-client';
import { manifestDigest } from '../src/versions/manifest';
import { RateLimiter, Semaphore } from './limits';
import { BackgroundHasher } from './hasher';
import { CacheStore, ReadyVersion, safeRelativePath, sha256File, VersionRef } from './store';

/** Files at least this large are hashed on a worker thread while they download. */
const BACKGROUND_HASH_BYTES = 8 * 1024 * 1024;
const WRITE_BATCH_BYTES = 1024 * 1024;

export interface PullTarget extends VersionRef {
  manifestDigest: string;
}

export interface PullOptions {
  chunkSize: number;
  fileConcurrency: number;
  /** Shared by every pull: the agent-wide number of range requests in flight. */
  requests: Semaphore;
  rate: RateLimiter;
  /** Called with every piece of bytes received from the registry. */
  onBytes?: (bytes: number) => void;
  chunkAttempts?: number;
  maxFiles?: number;
}

export class IntegrityError extends Error {
  override name = 'IntegrityError';
}

/**
 * Pulls versions into the store with ranged parallel GETs. Each file downloads into
 * partial/<sha256> in fixed chunks; finished chunks are appended to partial/<sha256>.chunks, so
 * a restarted agent fetches only the chunks it lacks. The file is hashed in order as chunks
 * complete and becomes a blob only when its sha256 matches; the version is marked ready only
 * after every blob is in place.
 */
export class Puller {
  /** Blobs pulls are working on or have just placed: garbage collection must leave them. */
  readonly inFlight = new Map<string, number>();

  /** Files open at once (each holds a descriptor, and large ones a hashing thread). */
  private readonly files: Semaphore;

  constructor(
    private readonly client: WharfClient,
    private readonly store: CacheStore,
    private readonly options: PullOptions,
  ) {
    this.files = new Semaphore(options.maxFiles ?? 8);
  }

  async pull(target: PullTarget, onProgress: (done: number, total: number) => void, signal?: AbortSignal): Promise<ReadyVersion> {
    const manifest = await this.client.manifest(target.project, target.model, target.version);
    const files = manifest.items;
    const digest = manifestDigest(files);
    if (manifest.manifestDigest !== target.manifestDigest || digest !== target.manifestDigest) {
      throw new IntegrityError(`the file list of ${target.project}/${target.model}@${target.version} does not match its digest ${target.manifestDigest}`);
    }
    const unsafe = files.find((file) => !safeRelativePath(file.path));
    if (unsafe) throw new IntegrityError(`unsafe path in manifest: ${JSON.stringify(unsafe.path)}`);

    const unique = [...new Map(files.map((file) => [file.sha256, file])).values()];
    unique.forEach((file) => this.inFlight.set(file.sha256, (this.inFlight.get(file.sha256) ?? 0) + 1));
    try {
      const total = unique.reduce((sum, file) => sum + file.size, 0);
      const progress = new Map<string, number>();
      const report = () => onProgress([...progress.values()].reduce((a, b) => a + b, 0), total);
      await Promise.all(
        unique.map(async (file) => {
          if (await this.store.hasBlob(file.sha256, file.size)) {
            progress.set(file.sha256, file.size);
            return report();
          }
          const release = await this.files.acquire();
          try {
            await this.pullFile(target, file, (done) => {
              progress.set(file.sha256, done);
              report();
            }, signal);
          } finally {
            release();
          }
        }),
      );
      return await this.store.publishVersion(target, target.manifestDigest, files);
    } finally {
      for (const file of unique) {
        const left = (this.inFlight.get(file.sha256) ?? 1) - 1;
        if (left <= 0) this.inFlight.delete(file.sha256);
        else this.inFlight.set(file.sha256, left);
      }
    }
  }

  private async pullFile(target: PullTarget, file: ManifestFile, onProgress: (done: number) => void, signal?: AbortSignal): Promise<void> {
    const partial = this.store.partialPath(file.sha256);
    const log = `${partial}.chunks`;
    const chunkSize = this.options.chunkSize;
    const chunks = Math.ceil(file.size / chunkSize);
    const chunkLength = (index: number) => Math.min(file.size, (index + 1) * chunkSize) - index * chunkSize;
    const done = new Set<number>();
    const logged = await fs.readFile(log, 'utf8').catch(() => '');
    for (const line of logged.split('\n')) if (/^\d+$/.test(line) && Number(line) < chunks) done.add(Number(line));

    const handle = await fs.open(partial, (await fs.stat(partial).catch(() => undefined)) ? 'r+' : 'w+');
    try {
      if ((await handle.stat()).size !== file.size) await handle.truncate(file.size);
      let bytesDone = [...done].reduce((sum, index) => sum + chunkLength(index), 0);
      onProgress(bytesDone);

      // Hash in order as the prefix of finished chunks grows: large files on a worker thread
      // while later chunks still download, small ones here once they are complete.
      const hasher = file.size >= BACKGROUND_HASH_BYTES ? new BackgroundHasher(partial) : undefined;
      let prefix = 0;
      const advance = () => {
        while (prefix < chunks && done.has(prefix)) prefix++;
        hasher?.advance(Math.min(file.size, prefix * chunkSize));
      };
      advance();
      // Flush written chunks to disk as the download goes, so the fsync before publishing
      // has little left to do.
      let syncing: Promise<void> | null = null;
      let syncAgain = false;
      const flush = () => {
        if (syncing) {
          syncAgain = true;
          return;
        }
        syncing = handle
          .datasync()
          .catch(() => undefined)
          .then(() => {
            syncing = null;
            if (syncAgain) {
              syncAgain = false;
              flush();
            }
          });
      };

      const pending = [...Array(chunks).keys()].filter((index) => !done.has(index));
      // The first failing chunk stops the file's other workers.
      const stop = new AbortController();
      const fileSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
      const worker = async () => {
        try {
          await work();
        } catch (error) {
          stop.abort(error);
          throw error;
        }
      };
      const work = async () => {
        for (let index = pending.shift(); index !== undefined; index = pending.shift()) {
          let received = 0;
          await this.fetchChunk(target, file, handle, index * chunkSize, chunkLength(index), (bytes) => {
            received += bytes;
            onProgress(bytesDone + received);
          }, () => {
            onProgress(bytesDone);
            received = 0;
          }, fileSignal);
          bytesDone += chunkLength(index);
          done.add(index);
          await fs.appendFile(log, `${index}\n`);
          advance();
          flush();
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(this.options.fileConcurrency, Math.max(pending.length, 1)) }, worker));
      } catch (error) {
        await hasher?.abort();
        throw error;
      }
      const actual = hasher ? await hasher.finish(file.size) : await sha256File(partial);
      while (syncing) await syncing;
      if (actual !== file.sha256) {
        await handle.close().catch(() => undefined);
        await fs.rm(partial, { force: true });
        await fs.rm(log, { force: true });
        throw new IntegrityError(`${file.path} hashed to ${actual}, expected ${file.sha256}; it will be fetched again`);
      }
      await handle.sync();
    } finally {
      await handle.close().catch(() => undefined);
    }
    await this.store.publishBlob(file.sha256, partial);
    await fs.rm(log, { force: true });
  }

  /** One range, written at its offset; retried from its start when the body breaks off. */
  private async fetchChunk(
    target: PullTarget,
    file: ManifestFile,
    handle: fs.FileHandle,
    start: number,
    length: number,
    onBytes: (bytes: number) => void,
    onRestart: () => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const attempts = this.options.chunkAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const release = await this.options.requests.acquire();
      try {
        const end = start + length - 1;
        const download = await this.client.download(target.project, target.model, target.version, file.path, { start, end, signal });
        const whole = download.status === 200 && start === 0 && length === file.size;
        if (download.status !== 206 && !whole) {
          download.body.destroy();
          throw new Error(`asked for bytes ${start}-${end} of ${file.path}, got HTTP ${download.status}`);
        }
        if (download.etag && download.etag !== file.sha256) {
          download.body.destroy();
          throw new IntegrityError(`${file.path} is served with ETag ${download.etag}, expected ${file.sha256}`);
        }
        // Pieces arrive in tens of KiB; they are written in batches of about 1 MiB, one
        // system call each.
        let position = start;
        let batch: Uint8Array[] = [];
        let batched = 0;
        const write = async () => {
          if (!batched) return;
          await handle.writev(batch, position);
          position += batched;
          this.options.onBytes?.(batched);
          onBytes(batched);
          batch = [];
          batched = 0;
        };
        for await (const piece of download.body as AsyncIterable<Buffer>) {
          if (position + batched + piece.length > start + length) throw new Error(`the registry sent more than bytes ${start}-${end} of ${file.path}`);
          await this.options.rate.take(piece.length, signal);
          batch.push(piece);
          batched += piece.length;
          if (batched >= WRITE_BATCH_BYTES) await write();
        }
        await write();
        if (position !== start + length) throw new Error(`bytes ${start}-${end} of ${file.path} ended after ${position - start} bytes`);
        return;
      } catch (error) {
        onRestart();
        if (error instanceof IntegrityError || signal?.aborted || attempt >= attempts) throw error;
        await sleep(Math.min(5000, 100 * 2 ** attempt), undefined, { signal });
      } finally {
        release();
      }
    }
  }
}
