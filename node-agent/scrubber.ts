import type { Logger } from 'pino';
import { CacheStore, ReadyVersion, sha256File } from './store';

/**
 * Hashes every cached blob again, one after another, every `intervalMs`: bit rot or a stray
 * write to a cached file is found and the file pulled again instead of being served.
 */
export class Scrubber {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly store: CacheStore,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly ready: () => ReadyVersion[],
    private readonly onCorrupt: (sha256: string) => Promise<void>,
  ) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.scrub(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One pass; returns the blobs found corrupt. */
  async scrub(): Promise<string[]> {
    if (this.running) return [];
    this.running = true;
    const corrupt: string[] = [];
    try {
      const blobs = new Set(this.ready().flatMap((version) => version.files.map((file) => file.sha256)));
      for (const sha256 of blobs) {
        const actual = await sha256File(this.store.blobPath(sha256)).catch(() => 'missing');
        if (actual === sha256) continue;
        corrupt.push(sha256);
        await this.onCorrupt(sha256);
      }
    } catch (error) {
      this.logger.error({ err: (error as Error).message }, 'scrub failed');
    } finally {
      this.running = false;
    }
    return corrupt;
  }
}
