import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';

/** What changed: everything cached about one project, or every authentication decision. */
export type InvalidationEvent = { kind: 'project'; projectId: string } | { kind: 'auth' };

export const INVALIDATION_CHANNEL = 'wharf_invalidate';
const RECONNECT_DELAY_MS = 500;

/**
 * Keeps the in-process caches of every replica honest. A change publishes an event with
 * NOTIFY inside its own transaction, so Postgres delivers it to every replica's listening
 * connection exactly when (and only if) the change commits. This process also applies its
 * own events right after the commit, so a writer reads its own writes at once and the
 * embedded single-process mode needs no listener at all.
 *
 * Caches never store a value as "current"; they store it under a stamp (generation numbers
 * read *before* the database read). An event bumps a generation, so an entry computed from
 * data older than the event is simply never looked up again. While the listening connection
 * is down the stamp is null and nothing is cached: a missed event can never leave a stale
 * entry behind.
 */
@Injectable()
export class InvalidationService implements OnModuleInit, OnModuleDestroy, EntitySubscriberInterface {
  private readonly logger = new Logger('Invalidation');
  private epoch = 0;
  private authGeneration = 0;
  private readonly projectGenerations = new Map<string, number>();
  private readonly pending = new WeakMap<QueryRunner, InvalidationEvent[]>();
  private client: Client | null = null;
  private listening = false;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    this.dataSource.subscribers.push(this);
    await this.connect();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const index = this.dataSource.subscribers.indexOf(this);
    if (index >= 0) this.dataSource.subscribers.splice(index, 1);
    await this.client?.end().catch(() => undefined);
  }

  /** Announces a change from inside the transaction that makes it. */
  async publish(manager: EntityManager, event: InvalidationEvent): Promise<void> {
    await manager.query('SELECT pg_notify($1, $2)', [INVALIDATION_CHANNEL, JSON.stringify(event)]);
    const runner = manager.queryRunner;
    if (runner?.isTransactionActive) {
      const events = this.pending.get(runner) ?? [];
      events.push(event);
      this.pending.set(runner, events);
    } else {
      this.apply(event);
    }
  }

  /** The stamp under which values about a project may be cached now; null: do not cache. */
  projectStamp(projectId: string): string | null {
    return this.listening ? `${this.epoch}.${this.projectGenerations.get(projectId) ?? 0}` : null;
  }

  authStamp(): string | null {
    return this.listening ? `${this.epoch}.${this.authGeneration}` : null;
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const events = this.pending.get(event.queryRunner);
    if (!events) return;
    this.pending.delete(event.queryRunner);
    for (const item of events) this.apply(item);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    this.pending.delete(event.queryRunner);
  }

  private apply(event: InvalidationEvent): void {
    if (event.kind === 'auth') this.authGeneration++;
    else this.projectGenerations.set(event.projectId, (this.projectGenerations.get(event.projectId) ?? 0) + 1);
  }

  private async connect(): Promise<void> {
    const url = (this.dataSource.options as { url?: string }).url;
    const client = new Client({ connectionString: url, application_name: 'wharf-invalidation' } as ConstructorParameters<typeof Client>[0]);
    client.on('notification', (message) => {
      if (message.channel !== INVALIDATION_CHANNEL || !message.payload) return;
      try {
        this.apply(JSON.parse(message.payload) as InvalidationEvent);
      } catch {
        this.logger.warn(`ignoring a malformed invalidation: ${message.payload.slice(0, 200)}`);
      }
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${INVALIDATION_CHANNEL}`);
      // Whatever was cached before this connection may have missed events.
      this.epoch++;
      this.listening = true;
    } catch (error) {
      this.lost(client, error as Error);
    }
  }

  private lost(client: Client, error?: Error): void {
    if (this.client !== client) return;
    this.listening = false;
    this.epoch++;
    this.client = null;
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.logger.warn(`invalidation listener lost (${error?.message ?? 'connection ended'}); caching is off until it reconnects`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, RECONNECT_DELAY_MS);
  }
}
