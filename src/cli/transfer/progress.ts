import { formatBytes } from '../output';

/**
 * A one-line progress bar with rate and ETA, redrawn at most ten times a second on a terminal;
 * silent elsewhere (pipes, CI logs, --json).
 */
export class Progress {
  private done = 0;
  private lastDraw = 0;
  private readonly started = Date.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream | null,
  ) {}

  add(bytes: number): void {
    this.done += bytes;
    const now = Date.now();
    if (now - this.lastDraw >= 100) {
      this.lastDraw = now;
      this.draw();
    }
  }

  finish(): void {
    if (!this.stream) return;
    this.draw();
    this.stream.write('\n');
  }

  private draw(): void {
    if (!this.stream) return;
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    const rate = this.done / seconds;
    const fraction = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const width = 24;
    const bar = '#'.repeat(Math.round(fraction * width)).padEnd(width, '.');
    const eta = rate > 0 && this.total > this.done ? `${Math.ceil((this.total - this.done) / rate)}s` : '-';
    this.stream.write(
      `\r${this.label} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${formatBytes(this.done)}/${formatBytes(this.total)}  ${formatBytes(rate)}/s  ETA ${eta}   `,
    );
  }
}
