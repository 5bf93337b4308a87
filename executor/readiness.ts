import { Agent, request } from 'node:http';

/**
 * Follows the model server's own readiness: polls its readiness path and is ready only while the
 * last poll answered 2xx. Draining (SIGTERM) makes it unready for good, so the endpoint is taken
 * out of the Service before the listener closes.
 */
export class Readiness {
  private upstreamReady = false;
  private draining = false;
  private timer?: NodeJS.Timeout;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly listeners = new Set<(ready: boolean) => void>();

  constructor(
    private readonly url: URL,
    private readonly intervalMs: number,
  ) {}

  get ready(): boolean {
    return this.upstreamReady && !this.draining;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  get modelReady(): boolean {
    return this.upstreamReady;
  }

  onChange(listener: (ready: boolean) => void): void {
    this.listeners.add(listener);
  }

  start(): void {
    const tick = async () => {
      const before = this.ready;
      this.upstreamReady = await this.probe();
      if (before !== this.ready) for (const listener of this.listeners) listener(this.ready);
      if (!this.draining) this.timer = setTimeout(tick, this.intervalMs);
    };
    void tick();
  }

  drain(): void {
    this.draining = true;
    clearTimeout(this.timer);
    this.agent.destroy();
    for (const listener of this.listeners) listener(false);
  }

  private probe(): Promise<boolean> {
    return new Promise((resolve) => {
      const probe = request(this.url, { agent: this.agent, timeout: Math.max(1000, this.intervalMs) }, (response) => {
        response.resume();
        resolve(response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300);
      });
      probe.on('timeout', () => probe.destroy(new Error('readiness probe timed out')));
      probe.on('error', () => resolve(false));
      probe.end();
    });
  }
}
