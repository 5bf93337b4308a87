import type { Logger } from 'pino';

/**
 * Delay before the next heartbeat: the interval while the registry answers, then doubling with
 * each failure up to `max`, with ±20 % jitter (`random` in [0, 1)) so a fleet of agents does
 * not come back in lockstep after an outage.
 */
export function heartbeatDelay(failures: number, intervalMs: number, maxMs: number, random: number): number {
  if (failures <= 0) return intervalMs;
  const base = Math.min(maxMs, intervalMs * 2 ** Math.min(failures, 30));
  return Math.round(base * (0.8 + 0.4 * random));
}

/**
 * Runs `beat` forever: one at a time, every interval, backing off while it fails. `kick()`
 * sends the next heartbeat now (an on-demand request should not wait an interval), except
 * while backing off from failures, so a down registry is not hammered.
 */
export class HeartbeatLoop {
  failures = 0;
  lastSuccessAt: number | null = null;
  private wake: (() => void) | null = null;
  private again = false;
  private stopped = false;
  private running: Promise<void> | null = null;

  constructor(
    private readonly beat: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly maxBackoffMs: number,
    private readonly logger: Logger,
    private readonly onFailure: () => void = () => undefined,
  ) {}

  start(): void {
    this.running = this.loop();
  }

  kick(): void {
    if (this.failures > 0) return;
    this.again = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.again = false;
      try {
        await this.beat();
        if (this.failures > 0) this.logger.info({ failures: this.failures }, 'registry reachable again');
        this.failures = 0;
        this.lastSuccessAt = Date.now();
      } catch (error) {
        this.failures++;
        this.onFailure();
        this.logger.warn({ err: (error as Error).message, failures: this.failures }, 'heartbeat failed; backing off');
      }
      if (this.stopped || this.again) continue;
      const delay = heartbeatDelay(this.failures, this.intervalMs, this.maxBackoffMs, Math.random());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }
}
