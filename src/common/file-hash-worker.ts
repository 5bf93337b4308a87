import { rm } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { FileExtent } from './file-extent';

export interface FileDigest {
  sha256: string;
  bytes: number;
}

/**
 * The worker: one sha256 per id, fed with extents in order, read through one reused buffer
 * (reading into fresh buffers would hand the main thread's garbage collector nothing, but
 * would cost this thread an allocation per megabyte).
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
const digests = new Map();
const entry = (id) => {
  let state = digests.get(id);
  if (!state) digests.set(id, (state = { hash: crypto.createHash('sha256'), bytes: 0, error: null }));
  return state;
};
function hashExtent(state, extent) {
  const fd = fs.openSync(extent.file, 'r');
  try {
    for (let position = extent.start; position <= extent.end; ) {
      const length = Math.min(buffer.length, extent.end - position + 1);
      const read = fs.readSync(fd, buffer, 0, length, position);
      if (read === 0) throw new Error('short read: ' + extent.file + ' ends at byte ' + position + ', before ' + (extent.end + 1));
      state.hash.update(buffer.subarray(0, read));
      state.bytes += read;
      position += read;
    }
  } finally {
    fs.closeSync(fd);
  }
}
parentPort.on('message', (message) => {
  if (message.op === 'update') {
    const state = entry(message.id);
    try {
      if (!state.error) hashExtent(state, message.extent);
    } catch (error) {
      state.error = String((error && error.message) || error);
    }
    if (message.remove) {
      try {
        fs.rmSync(message.extent.file, { force: true });
      } catch {
        // a copy that cannot be deleted goes with its spool directory
      }
    }
  } else if (message.op === 'digest') {
    const state = entry(message.id);
    digests.delete(message.id);
    parentPort.postMessage(state.error
      ? { request: message.request, error: state.error }
      : { request: message.request, sha256: state.hash.digest('hex'), bytes: state.bytes });
  } else if (message.op === 'drop') {
    digests.delete(message.id);
  }
});
`;

interface Pending {
  resolve: (digest: FileDigest) => void;
  reject: (error: Error) => void;
}

/**
 * sha256 of files on local disk, computed on a worker thread so that hashing a gigabyte
 * (about 0.6 s of CPU) neither blocks the event loop nor waits for the last byte to arrive:
 * callers feed extents as they become final and ask for the digest at the end. Several
 * digests (ids) can be in progress at once; they share the one thread, in the order fed.
 */
export class FileHashWorker {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  /** The thread each digest in progress was fed to: a digest fed to a thread that died is lost. */
  private readonly owners = new Map<string, Worker>();
  private nextRequest = 1;

  /**
   * Adds these bytes to digest `id` (started on first use). Errors surface at `digest`.
   * `remove`: the file is a copy kept only to be hashed, deleted once it was (or could not be).
   */
  update(id: string, extent: FileExtent, remove = false): void {
    if (extent.end < extent.start) {
      if (remove) void rm(extent.file, { force: true });
      return;
    }
    const worker = this.start();
    if (!this.owners.has(id)) this.owners.set(id, worker);
    worker.postMessage({ op: 'update', id, extent, remove });
  }

  /** The digest of everything fed to `id`, which is then forgotten. */
  digest(id: string): Promise<FileDigest> {
    const worker = this.start();
    const owner = this.owners.get(id);
    this.owners.delete(id);
    if (owner && owner !== worker) return Promise.reject(new Error('the hashing thread stopped before the digest was complete'));
    const request = this.nextRequest++;
    return new Promise<FileDigest>((resolve, reject) => {
      this.pending.set(request, { resolve, reject });
      // While an answer is awaited the thread must keep the process alive; idle, it must not.
      worker.ref();
      worker.postMessage({ op: 'digest', id, request });
    });
  }

  /** Forgets digest `id` without an answer. */
  drop(id: string): void {
    this.owners.delete(id);
    this.worker?.postMessage({ op: 'drop', id });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (message: { request: number; sha256?: string; bytes?: number; error?: string }) => {
      const pending = this.pending.get(message.request);
      this.pending.delete(message.request);
      if (this.pending.size === 0) worker.unref();
      if (!pending) return;
      if (message.error !== undefined) pending.reject(new Error(message.error));
      else pending.resolve({ sha256: message.sha256!, bytes: message.bytes! });
    });
    const failAll = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const pending of this.pending.values()) pending.reject(error);
      this.pending.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`the hashing thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}
