import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { WharfClient } from '../src/client/wharf-client';
import type { AssignmentDto, HeartbeatDto, HeartbeatReplyDto } from '../src/nodes/dto/node.dto';
import type { AgentConfig } from './config';
import { WorkQueue } from '../kube-runtime/work-queue';
import { planEviction } from './eviction';
import { HeartbeatLoop, InventoryTracker } from './heartbeat';
import { ChangeSignal } from './change-signal';
import { NodeLabels } from './labels';
import { LeaseBook } from './leases';
import { RateLimiter, Semaphore } from './limits';
import type { AgentMetrics } from './metrics';
import { Puller } from './puller';
import { LocalState, reconcile } from './reconcile';
import { Scrubber } from './scrubber';
import { CacheStore, parseVersionKey, ReadyVersion, VersionRef, versionKeyOf } from './store';

export const AGENT_VERSION = '0.1.0';

interface Entry {
  key: string;
  state: LocalState;
  bytesDone: number;
  bytesTotal: number;
  ready?: ReadyVersion;
  failures: number;
  retryAt?: number;
  error?: string;
}

export type WaitResult =
  | { kind: 'ready'; version: ReadyVersion; hit: boolean }
  | { kind: 'rejected'; code: string; detail: string }
  | { kind: 'timeout'; state: LocalState | 'unknown'; bytesDone: number; bytesTotal: number };

/** Request demands last this long after the last ask, unless the version becomes ready first. */
const REQUEST_TTL_MS = 10 * 60_000;

/** The agent reconciles the node as a whole: one key in its work queue. */
const RECONCILE_KEY = 'node';

/**
 * The agent: keeps the node's cache in line with its assignments (pull what is missing, evict
 * least recently used versions nothing holds when over budget) and answers local requests.
 */
export class Agent {
  readonly entries = new Map<string, Entry>();
  readonly leases: LeaseBook;
  readonly puller: Puller;
  readonly heartbeats: HeartbeatLoop;
  private readonly inventory = new InventoryTracker();
  private assignments = new Map<string, AssignmentDto>();
  private readonly requests = new Map<string, number>();
  private readonly rejected = new Map<string, { code: string; detail: string }>();
  private readonly lru = new LRUCache<string, true>({ max: 1_000_000 });
  private readonly changes = new ChangeSignal();
  private readonly labels: NodeLabels;
  private evicting: Promise<void> = Promise.resolve();
  /**
   * Every trigger (heartbeat reply, local request, pull failure retry, corrupt blob) only adds the
   * one key: runs never overlap, triggers during a run collapse into one more run (kube-runtime).
   */
  private readonly reconciles = new WorkQueue({ concurrency: 1 });
  readonly scrubber: Scrubber;

  constructor(
    readonly config: AgentConfig,
    private readonly client: WharfClient,
    readonly store: CacheStore,
    private readonly metrics: AgentMetrics,
    private readonly logger: Logger,
  ) {
    this.leases = new LeaseBook(config.cacheDir);
    this.puller = new Puller(client, store, {
      chunkSize: config.CHUNK_SIZE,
      fileConcurrency: config.FILE_CONCURRENCY,
      requests: new Semaphore(config.PULL_CONCURRENCY),
      rate: new RateLimiter(config.PULL_RATE_LIMIT),
      onBytes: (bytes) => metrics.bytesPulled.inc(bytes),
    });
    this.heartbeats = new HeartbeatLoop(() => this.heartbeat(), config.HEARTBEAT_INTERVAL, config.HEARTBEAT_MAX_BACKOFF, logger, () =>
      metrics.heartbeatFailures.inc(),
    );
    this.scrubber = new Scrubber(store, config.SCRUB_INTERVAL, logger, () => this.readyVersions(), (sha) => this.dropCorrupt(sha));
    this.labels = new NodeLabels(config, (error) => logger.warn({ err: error.message }, 'cannot read node labels'));
    metrics.diskBudget.set(config.CACHE_BUDGET);
    this.reconciles.start(async () => this.plan());
  }

  async start(): Promise<void> {
    const { ready, discarded } = await this.store.open(this.config.VERIFY_ON_START);
    for (const version of ready.sort((a, b) => a.lastUsedAt - b.lastUsedAt)) {
      this.entries.set(version.key, { key: version.key, state: 'ready', bytesDone: version.bytes, bytesTotal: version.bytes, ready: version, failures: 0 });
      this.lru.set(version.key, true);
    }
    await this.leases.load();
    await this.labels.start();
    this.logger.info({ ready: ready.length, discarded, labels: this.labels.current }, 'cache opened');
    await this.refreshGauges();
    this.heartbeats.start();
    this.scrubber.start();
  }

  async stop(): Promise<void> {
    this.labels.stop();
    this.scrubber.stop();
    await this.heartbeats.stop();
    await this.reconciles.shutdown();
  }

  /** Waits until the version is ready here, asking the registry for it on a miss. */
  async waitReady(ref: VersionRef, timeoutMs: number): Promise<WaitResult> {
    const key = versionKeyOf(ref);
    const entry = this.entries.get(key);
    if (entry?.state === 'ready' && entry.ready) {
      this.metrics.hits.inc();
      this.used(key);
      return { kind: 'ready', version: entry.ready, hit: true };
    }
    this.metrics.misses.inc();
    this.rejected.delete(key);
    this.requests.set(key, Date.now() + Math.max(REQUEST_TTL_MS, timeoutMs));
    this.heartbeats.kick();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = this.entries.get(key);
      if (current?.state === 'ready' && current.ready) {
        this.used(key);
        return { kind: 'ready', version: current.ready, hit: false };
      }
      const rejection = this.rejected.get(key);
      if (rejection) return { kind: 'rejected', ...rejection };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: 'timeout', state: current?.state ?? 'unknown', bytesDone: current?.bytesDone ?? 0, bytesTotal: current?.bytesTotal ?? 0 };
      await this.changes.next(left);
    }
  }

  /** Entries as the heartbeat reports them. */
  snapshot() {
    return [...this.entries.values()].map((entry) => ({ ...parseVersionKey(entry.key), state: entry.state, bytesDone: entry.bytesDone, bytesTotal: entry.bytesTotal }));
  }

  private async heartbeat(): Promise<void> {
    const now = Date.now();
    for (const [key, until] of this.requests) if (until <= now) this.requests.delete(key);
    const inventory = this.inventory.prepare(this.snapshot());
    const body: HeartbeatDto = {
      labels: this.labels.current,
      capacityBytes: await this.store.capacityBytes(),
      budgetBytes: this.config.CACHE_BUDGET,
      usedBytes: await this.store.usedBytes(),
      agentVersion: AGENT_VERSION,
      ...inventory.report,
      demands: [
        ...[...this.requests.keys()].map((key) => ({ ...parseVersionKey(key), reason: 'request' as const })),
        ...this.leases.heldKeys().map((key) => ({ ...parseVersionKey(key), reason: 'lease' as const })),
      ],
    };
    // A heartbeat that hangs must not stall the loop: it fails and the next one is sent.
    const timeout = Math.min(30_000, Math.max(5_000, 3 * this.config.HEARTBEAT_INTERVAL));
    const reply = await this.client.heartbeat(this.config.NODE_NAME, body, AbortSignal.timeout(timeout));
    if (this.inventory.settle(inventory, reply)) this.heartbeats.kick();
    this.apply(reply);
  }

  private apply(reply: HeartbeatReplyDto): void {
    this.assignments = new Map(reply.assignments.map((assignment) => [versionKeyOf(assignment), assignment]));
    for (const rejection of reply.rejected) {
      const key = versionKeyOf(rejection);
      this.requests.delete(key);
      this.rejected.set(key, { code: rejection.code, detail: rejection.detail });
    }
    if (reply.rejected.length) this.changes.notify();
    this.reconcile();
  }

  /** Asks for a reconcile (queued: never two at once, duplicates collapse). */
  reconcile(): void {
    this.reconciles.add(RECONCILE_KEY);
  }

  /** Starts the pulls the plan asks for, then makes room if needed. */
  private plan(): void {
    const plan = this.currentPlan();
    for (const key of plan.pull) {
      const assignment = this.assignments.get(key);
      if (assignment) this.startPull(assignment);
    }
    void this.evict();
  }

  private startPull(assignment: AssignmentDto): void {
    const key = versionKeyOf(assignment);
    const previous = this.entries.get(key);
    const entry: Entry = { key, state: 'pulling', bytesDone: 0, bytesTotal: 0, failures: previous?.failures ?? 0 };
    this.entries.set(key, entry);
    const started = process.hrtime.bigint();
    this.logger.info({ version: key, reasons: assignment.reasons }, 'pulling');
    this.puller
      .pull(assignment, (done, total) => {
        entry.bytesDone = done;
        entry.bytesTotal = total;
      })
      .then(async (ready) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.metrics.pullDuration.observe(seconds);
        Object.assign(entry, { state: 'ready', ready, bytesDone: ready.bytes, bytesTotal: ready.bytes, failures: 0, error: undefined });
        this.lru.set(key, true);
        this.requests.delete(key);
        this.logger.info({ version: key, bytes: ready.bytes, seconds }, 'ready');
        this.changes.notify();
        this.heartbeats.kick();
        await this.evict();
      })
      .catch((error: Error) => {
        entry.failures++;
        Object.assign(entry, { state: 'failed', error: error.message, retryAt: Date.now() + Math.min(60_000, 1000 * 2 ** (entry.failures - 1)) });
        this.metrics.pullFailures.inc();
        this.logger.warn({ version: key, err: error.message, failures: entry.failures }, 'pull failed; will retry');
        this.reconciles.addAfter(RECONCILE_KEY, entry.retryAt! - Date.now() + 10);
      });
  }

  /** What to pull and what to keep, from the assignments, requests and leases as they are now. */
  private currentPlan() {
    return reconcile({
      assigned: [...this.assignments.keys()],
      demanded: [...this.requests.keys()],
      leased: this.leases.heldKeys(),
      entries: this.entries,
      now: Date.now(),
    });
  }

  /** Evicts least recently used versions nothing protects, one eviction pass at a time. */
  evict(): Promise<void> {
    this.evicting = this.evicting.then(async () => {
      const keep = this.currentPlan().keep;
      const ready = this.readyVersions();
      const plan = planEviction({
        versions: ready.map((version) => ({ key: version.key, blobs: version.files, protected: keep.has(version.key) })),
        lru: [...this.lru.rkeys()],
        usedBytes: await this.store.usedBytes(),
        budgetBytes: this.config.CACHE_BUDGET,
        highWatermark: this.config.HIGH_WATERMARK,
        lowWatermark: this.config.LOW_WATERMARK,
      });
      for (const key of plan.evict) {
        const entry = this.entries.get(key)!;
        entry.state = 'evicting';
        await this.store.removeVersion(parseVersionKey(key));
        this.entries.delete(key);
        this.lru.delete(key);
        this.metrics.evictions.inc();
        this.logger.info({ version: key }, 'evicted');
      }
      if (plan.evict.length) await this.store.collectGarbage(new Set(this.puller.inFlight.keys()));
      await this.refreshGauges();
    });
    this.evicting = this.evicting.catch((error: Error) => this.logger.error({ err: error.message }, 'eviction failed'));
    return this.evicting;
  }

  /** A blob failed its sha256: every version linking it is no longer ready and is pulled again. */
  private async dropCorrupt(sha256: string): Promise<void> {
    this.metrics.corruptFiles.inc();
    for (const version of this.readyVersions().filter((v) => v.files.some((file) => file.sha256 === sha256))) {
      this.logger.warn({ version: version.key, sha256 }, 'cached file is corrupt; pulling the version again');
      await this.store.removeVersion(version);
      this.entries.delete(version.key);
      this.lru.delete(version.key);
    }
    await this.store.dropBlob(sha256);
    await this.store.collectGarbage(new Set(this.puller.inFlight.keys()));
    this.reconcile();
    this.heartbeats.kick();
  }

  reportError(error: unknown): void {
    this.logger.error({ err: (error as Error)?.message }, 'local API request failed');
  }

  readyVersions(): ReadyVersion[] {
    return [...this.entries.values()].filter((entry) => entry.state === 'ready' && entry.ready).map((entry) => entry.ready!);
  }

  private used(key: string): void {
    this.lru.get(key);
    void this.store.touch(parseVersionKey(key));
  }

  private async refreshGauges(): Promise<void> {
    this.metrics.diskUsed.set(await this.store.usedBytes());
    const counts: Record<string, number> = { pending: 0, pulling: 0, ready: 0, evicting: 0, failed: 0 };
    for (const entry of this.entries.values()) counts[entry.state]++;
    for (const [state, value] of Object.entries(counts)) this.metrics.versions.set({ state }, value);
  }
}
