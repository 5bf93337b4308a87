import { FileHashWorker } from '../src/common/file-hash-worker';

/**
 * Hashes a file that is being written, in order, on a worker thread of its own, so the sha256
 * of a large file is computed while later chunks still download and never blocks the event
 * loop that receives them. `advance(n)` says the first n bytes are on disk; `finish()` answers
 * the digest.
 */
export class BackgroundHasher {
  private readonly worker = new FileHashWorker();
  private sent = 0;

  constructor(private readonly file: string) {}

  /** The first `bytes` bytes of the file are final. */
  advance(bytes: number): void {
    if (bytes <= this.sent) return;
    this.worker.update('file', { file: this.file, start: this.sent, end: bytes - 1 });
    this.sent = bytes;
  }

  async finish(size: number): Promise<string> {
    this.advance(size);
    try {
      const digest = await this.worker.digest('file').catch((error: Error) => {
        throw new Error(`hashing ${this.file}: ${error.message}`);
      });
      if (digest.bytes !== size) throw new Error(`hashing ${this.file}: hashed ${digest.bytes} bytes, expected ${size}`);
      return digest.sha256;
    } finally {
      await this.worker.close();
    }
  }

  async abort(): Promise<void> {
    await this.worker.close();
  }
}
