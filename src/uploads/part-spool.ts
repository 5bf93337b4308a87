import { randomUUID } from 'node:crypto';
import { close, open, write } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { Transform, TransformCallback } from 'node:stream';
import { isProcessRunning } from '../common/process-running';

/**
 * Local copies of parts bound for a store that keeps its parts elsewhere (S3), so that the
 * file's sha256 can be computed while the parts arrive instead of by downloading the whole
 * object again at `complete`. A copy lives only until the hashing thread has read it (or the
 * upload is let go); nothing here is durable or needed after a crash, so each process spools
 * under a directory of its own (`DATA_DIR/spool/<pid>`) and a new process deletes the
 * directories of processes that are gone.
 */
export class PartSpool {
  readonly directory: string;

  constructor(private readonly root: string) {
    this.directory = path.join(root, String(process.pid));
  }

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    for (const entry of await readdir(this.root)) {
      if (entry !== String(process.pid) && !isProcessRunning(Number(entry))) await rm(path.join(this.root, entry), { recursive: true, force: true });
    }
    await mkdir(this.directory, { recursive: true });
  }

  /** A pass-through that also writes what flows through it to a new spool file. */
  copier(uploadId: string, number: number): SpoolingStream {
    return new SpoolingStream(path.join(this.directory, `${uploadId}.${number}.${randomUUID()}`));
  }

  async close(): Promise<void> {
    await rm(this.directory, { recursive: true, force: true });
  }
}

/**
 * Passes every chunk on once it is also written to `file`. A copy that cannot be written (a
 * full disk) only stops the copying: the part itself goes on to the store, and `complete`
 * hashes the assembled object instead.
 */
export class SpoolingStream extends Transform {
  private fd: number | null = null;
  private failed = false;

  constructor(readonly file: string) {
    super({ highWaterMark: 1024 * 1024 });
  }

  /** Whether `file` holds every byte that went through. */
  get complete(): boolean {
    return !this.failed && this.writableFinished;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.file, 'wx', (error, fd) => {
      if (error) this.failed = true;
      else this.fd = fd;
      callback();
    });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.failed || this.fd === null) {
      callback(null, chunk);
      return;
    }
    this.writeAll(chunk, 0, (error) => {
      if (error) this.stopCopying();
      callback(null, chunk);
    });
  }

  override _flush(callback: TransformCallback): void {
    this.closeFile(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.failed ||= error !== null;
    this.closeFile(() => callback(error));
  }

  private writeAll(chunk: Buffer, offset: number, done: (error: Error | null) => void): void {
    write(this.fd!, chunk, offset, chunk.length - offset, null, (error, written) => {
      if (error) done(error);
      else if (offset + written < chunk.length) this.writeAll(chunk, offset + written, done);
      else done(null);
    });
  }

  private stopCopying(): void {
    this.failed = true;
    this.closeFile(() => void rm(this.file, { force: true }));
  }

  private closeFile(callback: () => void): void {
    const fd = this.fd;
    this.fd = null;
    if (fd === null) callback();
    else close(fd, () => callback());
  }
}
