import { createHash, Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';
import { WharfError } from '../common/errors/wharf-error';

/**
 * Counts and hashes bytes on their way to the store and holds back the latest chunk until the
 * next one arrives. At the end the size and (if the client sent one) the sha256 are checked before the last
 * chunk is let through, so a body that fails its check never reaches the store whole: S3
 * refuses a part shorter than its Content-Length, the fs driver deletes the short file.
 */
export class VerifyingStream extends Transform {
  /** Hashing costs as much CPU as the rest of the path, so it runs only when there is a digest to check. */
  private readonly hash: Hash | null;
  private held: Buffer | null = null;
  private count = 0;
  digest: string | null = null;

  constructor(
    private readonly expectedSize: number,
    private readonly expectedSha256: string | null,
    private readonly what: string,
  ) {
    super({ highWaterMark: 1024 * 1024 });
    this.hash = expectedSha256 ? createHash('sha256') : null;
  }

  get bytes(): number {
    return this.count;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.count += chunk.length;
    if (this.count > this.expectedSize) {
      callback(new WharfError('part_size_mismatch', `${this.what} has more than the expected ${this.expectedSize} bytes`));
      return;
    }
    this.hash?.update(chunk);
    const previous = this.held;
    this.held = chunk;
    callback(null, previous ?? undefined);
  }

  override _flush(callback: TransformCallback): void {
    if (this.count !== this.expectedSize) {
      callback(new WharfError('part_size_mismatch', `${this.what} has ${this.count} bytes; ${this.expectedSize} were expected`));
      return;
    }
    this.digest = this.hash?.digest('hex') ?? null;
    if (this.expectedSha256 && this.digest !== this.expectedSha256) {
      callback(new WharfError('part_digest_mismatch', `${this.what} has sha256 ${this.digest}, not ${this.expectedSha256}`));
      return;
    }
    callback(null, this.held ?? undefined);
  }
}
