import { rm } from 'node:fs/promises';
import { FileDigest, FileHashWorker } from '../common/file-hash-worker';

/** Where the bytes of one stored part can be read on local disk. */
export interface PartSource {
  file: string;
  size: number;
  /** A copy made only for the digest (the store keeps its own elsewhere): deleted once hashed or dropped. */
  spooled: boolean;
}

interface RunningDigest {
  /** The next part number the digest needs. */
  next: number;
  /** The etag of every part hashed so far, in order. */
  fed: string[];
  /** Parts that arrived ahead of `next`: number → etag and where the bytes are. */
  waiting: Map<number, { etag: string; source: PartSource }>;
  /** When a part of it last arrived (ms). */
  touched: number;
}

/** Uploads followed at once; the oldest is let go (its complete hashes the whole file). */
const MAX_RUNNING = 1000;

/**
 * Hashes a file on a worker thread while its parts arrive at this replica, in part order: a
 * part that lands ahead of its turn waits for the parts before it. `complete` then finds the
 * file's sha256 ready instead of reading the whole file again, which is the slowest step of a
 * large upload (on S3, a download of the whole object). Only as a shortcut: the digest is used
 * only when the parts it covers are exactly the parts being assembled (numbers and etags), so
 * a replaced part, a part sent to another replica, or a restart simply leaves `complete` to
 * hash the assembled file as it always can.
 *
 * Spooled copies (S3 parts) that wait for their turn take local disk; `maxWaitingBytes` bounds
 * them across all uploads. An upload that would go over it is let go and its copies deleted:
 * parts alternating between two replicas, for one, never become hashable on either.
 */
export class RunningDigests {
  private readonly running = new Map<string, RunningDigest>();
  private waitingSpooledBytes = 0;

  constructor(
    private readonly hasher: FileHashWorker,
    private readonly maxWaitingBytes = Number.MAX_SAFE_INTEGER,
  ) {}

  /** Spooled bytes waiting for the parts before them, across uploads. */
  get waitingBytes(): number {
    return this.waitingSpooledBytes;
  }

  partStored(uploadId: string, number: number, etag: string, source: PartSource): void {
    let state = this.running.get(uploadId);
    if (!state) {
      if (this.running.size >= MAX_RUNNING) this.forget(this.running.keys().next().value!);
      state = { next: 1, fed: [], waiting: new Map(), touched: 0 };
    }
    // Kept in the order of their last part, so the idle ones are at the front.
    this.running.delete(uploadId);
    this.running.set(uploadId, state);
    state.touched = Date.now();
    if (number < state.next) {
      // A part already hashed was sent again: the digest so far no longer describes the file.
      if (state.fed[number - 1] !== etag) this.forget(uploadId);
      discard(source);
      return;
    }
    const replaced = state.waiting.get(number);
    if (replaced) this.unwait(replaced.source);
    if (number > state.next && source.spooled) {
      if (this.waitingSpooledBytes + source.size > this.maxWaitingBytes) {
        this.forget(uploadId);
        discard(source);
        return;
      }
      this.waitingSpooledBytes += source.size;
    }
    state.waiting.set(number, { etag, source });
    for (let part = state.waiting.get(state.next); part; part = state.waiting.get(state.next)) {
      if (state.next !== number && part.source.spooled) this.waitingSpooledBytes -= part.source.size;
      this.hasher.update(uploadId, { file: part.source.file, start: 0, end: part.source.size - 1 }, part.source.spooled);
      state.waiting.delete(state.next);
      state.fed.push(part.etag);
      state.next++;
    }
  }

  /**
   * The sha256 and size of exactly these parts, if this replica hashed all of them in order;
   * null otherwise. Either way the upload is no longer followed.
   */
  async take(uploadId: string, parts: { number: number; etag: string }[]): Promise<FileDigest | null> {
    const state = this.running.get(uploadId);
    if (!state) return null;
    const same = state.waiting.size === 0 && state.fed.length === parts.length && parts.every((part, index) => part.number === index + 1 && state.fed[index] === part.etag);
    if (!same) {
      this.forget(uploadId);
      return null;
    }
    this.running.delete(uploadId);
    // A part file that vanished under the hasher (replaced meanwhile) ends in a full hash.
    return this.hasher.digest(uploadId).catch(() => null);
  }

  /**
   * Lets go of uploads no part reached for `idleMs`: one completed by another replica, or
   * abandoned, would otherwise keep its waiting copies here until the process ends.
   */
  forgetIdle(idleMs: number, now = Date.now()): void {
    for (const [uploadId, state] of this.running) {
      if (now - state.touched < idleMs) break;
      this.forget(uploadId);
    }
  }

  forget(uploadId: string): void {
    const state = this.running.get(uploadId);
    if (!state) return;
    this.running.delete(uploadId);
    for (const { source } of state.waiting.values()) this.unwait(source);
    this.hasher.drop(uploadId);
  }

  private unwait(source: PartSource): void {
    if (!source.spooled) return;
    this.waitingSpooledBytes -= source.size;
    discard(source);
  }
}

function discard(source: PartSource): void {
  if (source.spooled) void rm(source.file, { force: true });
}
