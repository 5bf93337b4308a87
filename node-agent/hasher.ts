import { Worker } from 'node:worker_threads';

/**
 * Hashes a file that is being written, in order, on a worker thread, so the sha256 of a large
 * file is computed while later chunks still download and never blocks the event loop that
 * receives them. `advance(n)` says the first n bytes are on disk; `finish()` answers the digest.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const hash = crypto.createHash('sha256');
const fd = fs.openSync(workerData.path, 'r');
const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
let hashed = 0;
parentPort.on('message', (message) => {
  try {
    while (hashed < message.upTo) {
      const length = Math.min(buffer.length, message.upTo - hashed);
      const read = fs.readSync(fd, buffer, 0, length, hashed);
      if (read !== length) throw new Error('short read at ' + hashed);
      hash.update(buffer.subarray(0, length));
      hashed += length;
    }
    if (message.finish) {
      fs.closeSync(fd);
      parentPort.postMessage({ digest: hash.digest('hex') });
    }
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
});
`;

export class BackgroundHasher {
  private readonly worker: Worker;
  private readonly result: Promise<string>;
  private sent = 0;

  constructor(file: string) {
    this.worker = new Worker(WORKER, { eval: true, workerData: { path: file } });
    this.result = new Promise<string>((resolve, reject) => {
      this.worker.on('message', (message: { digest?: string; error?: string }) => {
        if (message.error) reject(new Error(`hashing ${file}: ${message.error}`));
        else if (message.digest) resolve(message.digest);
      });
      this.worker.on('error', reject);
      this.worker.on('exit', (code) => reject(new Error(`hash worker exited with ${code}`)));
    });
    this.result.catch(() => undefined);
  }

  /** The first `bytes` bytes of the file are final. */
  advance(bytes: number): void {
    if (bytes <= this.sent) return;
    this.sent = bytes;
    this.worker.postMessage({ upTo: bytes });
  }

  async finish(size: number): Promise<string> {
    this.worker.postMessage({ upTo: size, finish: true });
    try {
      return await this.result;
    } finally {
      await this.worker.terminate();
    }
  }

  async abort(): Promise<void> {
    await this.worker.terminate();
  }
}
