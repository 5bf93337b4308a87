import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { CacheEntry, NodeCacheState } from './decisions';

/** The channel the `nodes` trigger notifies on (migration SchedulerIndex): the payload is a node name. */
export const NODES_CHANNEL = 'wharf_nodes';
const RECONNECT_DELAY_MS = 500;
/** Heartbeats arrive one by one; reloading them in batches keeps a fleet's beats to a few queries a second. */
const BATCH_DELAY_MS = 50;
/** Without a listening connection (embedded mode, or while it reconnects) the index polls this often. */
const POLL_INTERVAL_MS = 1000;
/**
 * A poll rereads the nodes whose heartbeat time is at most this much older than the newest it saw:
 * `now()` is a transaction's start, so a heartbeat may commit a little after a later one.
 */
const POLL_OVERLAP_MS = 5000;
/** Every this many polls, the node count is compared, and the index reread when it differs (deletions). */
const COUNT_POLL_EVERY = 30;

interface NodeRow {
  name: string;
  budget_bytes: string;
  used_bytes: string;
  beat_ms: string;
  entries: { v: string; s: CacheEntry['state']; d: string; t: string }[];
}

/**
 * Every node's cache state in memory, for the extender's hot path (no query per scheduling call).
 * Filled from the database at start; kept current by the trigger on `nodes`, which NOTIFYs the
 * node's name when its heartbeat commits on any replica, so this index rereads just that node.
 * While the listener is down (and always in embedded mode) it polls every second for heartbeat
 * times and rereads the nodes whose time moved; every 30 s a count catches deletions: a missed
 * notification can delay a change by that much, never lose it.
 */
@Injectable()
export class CacheIndexService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('SchedulerIndex');
  private readonly nodes = new Map<string, NodeCacheState>();
  private readonly dirty = new Set<string>();
  private client: Client | null = null;
  private listening = false;
  private closed = false;
  private batchTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** Database clock minus this process's, so heartbeat times compare with Date.now(). */
  private clockSkewMs = 0;
  /** The newest heartbeat read, in the database's clock, for incremental polls. */
  private newestBeatMs = 0;
  /** Each node's heartbeat time as read, in the database's clock: a poll rereads only those that moved. */
  private readonly beats = new Map<string, number>();
  private polls = 0;

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    if ((this.dataSource.options as { url?: string }).url) await this.connect();
    await this.reloadAll();
    this.pollTimer = setInterval(() => {
      if (!this.listening) void this.poll().catch((error: Error) => this.logger.warn(`index poll failed: ${error.message}`));
    }, POLL_INTERVAL_MS);
    this.pollTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    for (const timer of [this.batchTimer, this.reconnectTimer]) if (timer) clearTimeout(timer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.client?.end().catch(() => undefined);
  }

  get(name: string): NodeCacheState | undefined {
    return this.nodes.get(name);
  }

  get size(): number {
    return this.nodes.size;
  }

  /** Replaces the whole index (also used by benchmarks to load a synthetic fleet). */
  replaceAll(nodes: Iterable<NodeCacheState>): void {
    this.nodes.clear();
    for (const node of nodes) this.nodes.set(node.name, node);
    for (const name of this.beats.keys()) if (!this.nodes.has(name)) this.beats.delete(name);
  }

  async reloadAll(): Promise<void> {
    const rows = await this.read(null);
    this.replaceAll(rows);
  }

  /** Names and heartbeat times are cheap to read; only the nodes whose heartbeat moved are reread whole. */
  private async poll(): Promise<void> {
    if (++this.polls % COUNT_POLL_EVERY === 0) {
      const counted: { count: number }[] = await this.dataSource.query(`SELECT count(*)::int AS count FROM nodes`);
      if (counted[0].count !== this.nodes.size) return this.reloadAll();
    }
    const beats: { name: string; beat_ms: string }[] = await this.dataSource.query(
      `SELECT name, (extract(epoch FROM last_heartbeat_at) * 1000)::bigint AS beat_ms FROM nodes WHERE last_heartbeat_at >= to_timestamp($1::float8 / 1000)`,
      [Math.max(0, this.newestBeatMs - POLL_OVERLAP_MS)],
    );
    const moved = beats.filter((row) => this.beats.get(row.name) !== Number(row.beat_ms)).map((row) => row.name);
    if (moved.length) for (const node of await this.read(moved)) this.nodes.set(node.name, node);
  }

  private async read(names: string[] | null): Promise<NodeCacheState[]> {
    const rows: NodeRow[] = await this.dataSource.query(
      `SELECT n.name, n.budget_bytes, n.used_bytes,
              (extract(epoch FROM n.last_heartbeat_at) * 1000)::bigint AS beat_ms,
              coalesce(json_agg(json_build_object('v', e.version_id, 's', e.state, 'd', e.bytes_done, 't', e.bytes_total))
                       FILTER (WHERE e.version_id IS NOT NULL), '[]') AS entries
         FROM nodes n LEFT JOIN node_cache_entries e ON e.node_name = n.name
        WHERE $1::text[] IS NULL OR n.name = ANY($1::text[])
        GROUP BY n.name`,
      [names],
    );
    const clock: { now_ms: string }[] = await this.dataSource.query(`SELECT (extract(epoch FROM now()) * 1000)::bigint AS now_ms`);
    this.clockSkewMs = Number(clock[0].now_ms) - Date.now();
    for (const row of rows) {
      this.newestBeatMs = Math.max(this.newestBeatMs, Number(row.beat_ms));
      this.beats.set(row.name, Number(row.beat_ms));
    }
    return rows.map((row) => ({
      name: row.name,
      budgetBytes: Number(row.budget_bytes),
      usedBytes: Number(row.used_bytes),
      lastHeartbeatMs: Number(row.beat_ms) - this.clockSkewMs,
      entries: new Map(row.entries.map((entry) => [entry.v, { state: entry.s, bytesDone: Number(entry.d), bytesTotal: Number(entry.t) }])),
    }));
  }

  private changed(name: string): void {
    this.dirty.add(name);
    this.batchTimer ??= setTimeout(() => void this.flush(), BATCH_DELAY_MS);
  }

  private async flush(): Promise<void> {
    this.batchTimer = null;
    const names = [...this.dirty];
    this.dirty.clear();
    try {
      const fresh = new Map((await this.read(names)).map((node) => [node.name, node]));
      for (const name of names) {
        const node = fresh.get(name);
        if (node) this.nodes.set(name, node);
        else {
          this.nodes.delete(name);
          this.beats.delete(name);
        }
      }
    } catch (error) {
      // Retried with the next batch; the poll covers a database that stays away.
      for (const name of names) this.dirty.add(name);
      this.logger.warn(`index refresh of ${names.length} node(s) failed: ${(error as Error).message}`);
      if (!this.closed) this.batchTimer ??= setTimeout(() => void this.flush(), POLL_INTERVAL_MS);
    }
  }

  private async connect(): Promise<void> {
    const url = (this.dataSource.options as { url?: string }).url;
    const client = new Client({ connectionString: url, application_name: 'wharf-scheduler-index' } as ConstructorParameters<typeof Client>[0]);
    client.on('notification', (message) => {
      if (message.channel === NODES_CHANNEL && message.payload) this.changed(message.payload);
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${NODES_CHANNEL}`);
      this.listening = true;
      // Whatever changed while nobody listened.
      if (this.nodes.size) await this.reloadAll();
    } catch (error) {
      this.lost(client, error as Error);
    }
  }

  private lost(client: Client, error?: Error): void {
    if (this.client !== client) return;
    this.listening = false;
    this.client = null;
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.logger.warn(`scheduler index listener lost (${error?.message ?? 'connection ended'}); rereading every ${POLL_INTERVAL_MS} ms until it reconnects`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, RECONNECT_DELAY_MS);
  }
}
