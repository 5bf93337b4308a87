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

/** One cache entry as a heartbeat reports it. */
export interface ReportedEntry {
  project: string;
  model: string;
  version: number;
  state: 'pending' | 'pulling' | 'ready' | 'evicting' | 'failed';
  bytesDone: number;
  bytesTotal: number;
}

type InventoryReport =
  | { sequence: number; entries: ReportedEntry[] }
  | { sequence: number; delta: { since: number; upserts: ReportedEntry[]; removals: { project: string; model: string; version: number }[] } };

export interface PendingInventory {
  sequence: number;
  report: InventoryReport;
  entries: ReadonlyMap<string, ReportedEntry>;
}

const entryKey = (entry: { project: string; model: string; version: number }) => `${entry.project}/${entry.model}@${entry.version}`;
const sameEntry = (a: ReportedEntry | undefined, b: ReportedEntry) =>
  a !== undefined && a.state === b.state && a.bytesDone === b.bytesDone && a.bytesTotal === b.bytesTotal;

/**
 * What the agent tells the registry about its cache: the whole inventory until the registry
 * acknowledges one, then only what changed since the last acknowledged heartbeat (a delta
 * against its `sequence`). A reply that asks for a resync, acknowledges another sequence (an
 * older registry acknowledges none), or never comes back leaves nothing assumed: a failed
 * heartbeat keeps the last acknowledged base, and the registry answers a delta from a base
 * it no longer holds with `resync`, after which the whole inventory is sent again.
 */
export class InventoryTracker {
  private acknowledged: { sequence: number; entries: ReadonlyMap<string, ReportedEntry> } | null = null;
  private nextSequence = 1;

  prepare(entries: readonly ReportedEntry[]): PendingInventory {
    const sequence = this.nextSequence++;
    const current = new Map(entries.map((entry) => [entryKey(entry), entry]));
    const base = this.acknowledged;
    if (!base) return { sequence, entries: current, report: { sequence, entries: [...entries] } };
    const upserts = entries.filter((entry) => !sameEntry(base.entries.get(entryKey(entry)), entry));
    const removals = [...base.entries.values()]
      .filter((entry) => !current.has(entryKey(entry)))
      .map(({ project, model, version }) => ({ project, model, version }));
    return { sequence, entries: current, report: { sequence, delta: { since: base.sequence, upserts, removals } } };
  }

  /** Reads the registry's reply; true when it asked for the whole inventory next. */
  settle(pending: PendingInventory, reply: { sequence?: number | null; resync?: boolean }): boolean {
    if (reply.resync || reply.sequence !== pending.sequence) {
      this.acknowledged = null;
      return reply.resync === true;
    }
    this.acknowledged = { sequence: pending.sequence, entries: pending.entries };
    return false;
  }
}
