import { FileDigest, FileHashWorker } from '../common/file-hash-worker';
import type { ArtifactStore } from '../storage/artifact-store';

interface RunningDigest {
  /** The next part number the digest needs. */
  next: number;
  /** The etag of every part hashed so far, in order. */
  fed: string[];
  /** Parts that arrived ahead of `next`: number → etag and size. */
  waiting: Map<number, { etag: string; size: number }>;
}

/** Uploads followed at once; the oldest is let go (its complete hashes the whole file). */
const MAX_RUNNING = 1000;

/**
 * Hashes a file on a worker thread while its parts arrive at this replica, in part order: a
 * part that lands ahead of its turn waits for the parts before it. `complete` then finds the
 * file's sha256 ready instead of reading the whole file again, which is the slowest step of a
 * large upload. Only for stores whose parts lie on local disk (the fs driver), and only as a
 * shortcut: the digest is used only when the parts it covers are exactly the parts being
 * assembled (numbers and etags), so a replaced part, a part sent to another replica, or a
 * restart simply leaves `complete` to hash the assembled file as it always can.
 */
export class RunningDigests {
  private readonly running = new Map<string, RunningDigest>();

  constructor(
    private readonly store: ArtifactStore,
    private readonly hasher: FileHashWorker,
  ) {}

  partStored(uploadId: string, storeUploadId: string, number: number, etag: string, size: number): void {
    if (!this.store.localPartFile) return;
    let state = this.running.get(uploadId);
    if (!state) {
      if (this.running.size >= MAX_RUNNING) this.forget(this.running.keys().next().value!);
      state = { next: 1, fed: [], waiting: new Map() };
      this.running.set(uploadId, state);
    }
    if (number < state.next) {
      // A part already hashed was sent again: the digest so far no longer describes the file.
      if (state.fed[number - 1] !== etag) this.forget(uploadId);
      return;
    }
    state.waiting.set(number, { etag, size });
    for (let part = state.waiting.get(state.next); part; part = state.waiting.get(state.next)) {
      this.hasher.update(uploadId, { file: this.store.localPartFile(storeUploadId, state.next, part.etag), start: 0, end: part.size - 1 });
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
    this.running.delete(uploadId);
    if (!state) return null;
    const same = state.fed.length === parts.length && parts.every((part, index) => part.number === index + 1 && state.fed[index] === part.etag);
    if (!same) {
      this.hasher.drop(uploadId);
      return null;
    }
    // A part file that vanished under the hasher (replaced meanwhile) ends in a full hash.
    return this.hasher.digest(uploadId).catch(() => null);
  }

  forget(uploadId: string): void {
    if (this.running.delete(uploadId)) this.hasher.drop(uploadId);
  }
}
