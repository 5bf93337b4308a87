/** How long one probe's answer stands, however often readiness is asked. */
const PROBE_INTERVAL_MS = 2_000;
/** A probe that takes longer than this counts as "not ready" (a hung store). */
const PROBE_TIMEOUT_MS = 2_000;

/**
 * Readiness of a store behind a network: the answer of the last probe, made at most once per
 * interval (a readiness probe per second from every kubelet never turns into a request per
 * second to S3), and "not ready" at once when a real request met an outage after that probe.
 */
export class StoreHealth {
  private probed: { at: number; ok: boolean } | undefined;
  private failedAt = -Infinity;
  private probing: Promise<boolean> | undefined;

  constructor(
    private readonly probe: () => Promise<void>,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = PROBE_INTERVAL_MS,
    private readonly timeoutMs = PROBE_TIMEOUT_MS,
  ) {}

  /** A request failed because the store did not answer. */
  failed(): void {
    this.failedAt = this.now();
  }

  ready(): Promise<boolean> {
    const probed = this.probed;
    if (probed && this.now() - probed.at < this.intervalMs) return Promise.resolve(probed.ok && this.failedAt < probed.at);
    this.probing ??= this.run().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async run(): Promise<boolean> {
    const at = this.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the store did not answer in time')), this.timeoutMs);
    });
    const ok = await Promise.race([this.probe(), timeout]).then(
      () => true,
      () => false,
    );
    clearTimeout(timer);
    this.probed = { at, ok };
    return ok;
  }
}
