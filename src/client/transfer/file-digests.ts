import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';

export interface FileDigests {
  sha256: string;
  size: number;
  mtimeMs: number;
  /** The part size `partSha256` was computed for. */
  partSize: number;
  /** sha256 of each part of `partSize` bytes (the last one shorter), in order. */
  partSha256: string[];
}

/** Bytes read at a time; a part size (a whole number of MiB) is a multiple of it. */
const SLOT_SIZE = 4 * 1024 * 1024;
/** Slots in flight: one being read, one being hashed here, the rest queued for the part hasher. */
const SLOTS = 4;

/**
 * The part hasher: hashes slots of the shared buffer into the digest of the part they belong
 * to and hands each slot back once it is done with it.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const memory = Buffer.from(workerData.shared);
const digests = [];
let hash = null;
let part = -1;
parentPort.on('message', (message) => {
  if (message.op === 'update') {
    if (message.part !== part) {
      if (hash) digests.push(hash.digest('hex'));
      hash = crypto.createHash('sha256');
      part = message.part;
    }
    hash.update(memory.subarray(message.offset, message.offset + message.length));
    parentPort.postMessage({ op: 'free', slot: message.slot });
  } else if (message.op === 'end') {
    if (hash) digests.push(hash.digest('hex'));
    parentPort.postMessage({ op: 'digests', digests });
  }
});
`;

/**
 * Reads a file once and computes both digests a push needs: the whole file's sha256 (here)
 * and each part's (on a worker thread, over the same bytes in shared memory, at the same
 * time). Hashing twice in one thread would cost the time of two passes; reading twice would
 * cost a second read of the whole file.
 */
export async function digestFile(
  absolute: string,
  partSizeFor: (size: number) => number,
  onBytes: (bytes: number) => void = () => undefined,
): Promise<FileDigests> {
  const before = await stat(absolute);
  const size = before.size;
  const partSize = partSizeFor(size);
  const parts = new PartHashingThread();
  const whole = createHash('sha256');
  const handle = await open(absolute, 'r');
  try {
    for (let position = 0; position < size; ) {
      const slot = await parts.freeSlot();
      const part = Math.floor(position / partSize);
      // A slot never spans two parts, so the part hasher switches digests between slots.
      const length = Math.min(SLOT_SIZE, size - position, (part + 1) * partSize - position);
      const view = parts.view(slot, length);
      for (let read = 0; read < length; ) {
        const { bytesRead } = await handle.read(view, read, length - read, position + read);
        if (bytesRead === 0) throw new Error(`${absolute} became shorter while it was read`);
        read += bytesRead;
      }
      parts.update(slot, length, part);
      whole.update(view);
      position += length;
      onBytes(length);
    }
    const partSha256 = await parts.digests();
    // An empty file is one empty part.
    if (size === 0) partSha256.push(createHash('sha256').digest('hex'));
    return { sha256: whole.digest('hex'), size, mtimeMs: before.mtimeMs, partSize, partSha256 };
  } finally {
    await handle.close();
    await parts.close();
  }
}

/** The worker thread hashing parts, fed through SLOTS slots of shared memory it hands back when done. */
class PartHashingThread {
  private readonly memory: Buffer;
  private readonly worker: Worker;
  private readonly free: number[] = Array.from({ length: SLOTS }, (_, slot) => slot);
  private waiting: (() => void) | null = null;
  private failure: Error | null = null;
  private finished: ((digests: string[]) => void) | null = null;

  constructor() {
    const shared = new SharedArrayBuffer(SLOT_SIZE * SLOTS);
    this.memory = Buffer.from(shared);
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { shared } });
    this.worker.on('message', (message: { op: string; slot?: number; digests?: string[] }) => {
      if (message.op === 'free') this.free.push(message.slot!);
      else this.finished?.(message.digests!);
      this.waiting?.();
    });
    const stop = (error: Error) => {
      this.failure ??= error;
      this.waiting?.();
    };
    this.worker.on('error', stop).on('exit', () => stop(new Error('the hashing thread stopped')));
  }

  async freeSlot(): Promise<number> {
    while (this.free.length === 0 && !this.failure) await new Promise<void>((resolve) => (this.waiting = resolve));
    this.waiting = null;
    if (this.failure) throw this.failure;
    return this.free.shift()!;
  }

  view(slot: number, length: number): Buffer {
    return this.memory.subarray(slot * SLOT_SIZE, slot * SLOT_SIZE + length);
  }

  update(slot: number, length: number, part: number): void {
    this.worker.postMessage({ op: 'update', slot, offset: slot * SLOT_SIZE, length, part });
  }

  digests(): Promise<string[]> {
    return new Promise<string[]>((resolve, reject) => {
      this.finished = resolve;
      this.waiting = () => this.failure && reject(this.failure);
      this.worker.postMessage({ op: 'end' });
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
