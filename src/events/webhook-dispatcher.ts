import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { SECRET_BOX } from './events.tokens';
import { SecretBox } from './secret-box';
import { SIGNATURE_HEADER, signatureHeader } from './signature';

interface ClaimedDelivery {
  id: string;
  event_type: string;
  payload: unknown;
  attempts: number;
  url: string;
  secret_sealed: string;
}

/** How long a claimed delivery stays invisible to other replicas: past the request timeout. */
const LEASE_MARGIN_MS = 30_000;
const BATCH = 16;
const MAX_ERROR_LENGTH = 500;

/** Exponential backoff with full jitter in the upper half: base·2^(n-1), capped. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Delivers the outbox. Any number of replicas run this loop: a batch is claimed in a short
 * transaction with `FOR UPDATE SKIP LOCKED` and leased by moving `next_attempt_at` past the
 * request timeout, so no other replica takes it and a crashed replica's claims come back.
 * No transaction is held while a subscriber is called, so a slow subscriber delays nothing
 * but its own deliveries.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WebhookDispatcher');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  /** Aborts deliveries in flight at shutdown; they are recorded as failed attempts and retried. */
  private readonly shutdown = new AbortController();

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
    @Inject(SECRET_BOX) private readonly secrets: SecretBox,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.WEBHOOK_DISPATCH_ENABLED) return;
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.shutdown.abort();
    await this.running;
    await Promise.allSettled([...this.inFlight]);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => this.schedule());
    }, this.config.WEBHOOK_POLL_INTERVAL_MS);
    this.timer.unref();
  }

  /** One poll: claim what is due and start delivering it; deliveries run concurrently. */
  async tick(): Promise<void> {
    try {
      const claimed = await this.claim();
      for (const delivery of claimed) {
        const done = this.deliver(delivery).finally(() => this.inFlight.delete(done));
        this.inFlight.add(done);
      }
    } catch (error) {
      if (!this.stopped) this.logger.warn(`claiming webhook deliveries failed: ${(error as Error).message}`);
    }
  }

  private async claim(): Promise<ClaimedDelivery[]> {
    const leaseMs = this.config.WEBHOOK_TIMEOUT_MS + LEASE_MARGIN_MS;
    return this.dataSource.transaction(async (manager) => {
      // TypeORM answers an UPDATE … RETURNING on Postgres with [rows, affected count].
      const [rows]: [ClaimedDelivery[], number] = await manager.query(
        `WITH due AS (
           SELECT id FROM webhook_deliveries
            WHERE state = 'pending' AND next_attempt_at <= now()
            ORDER BY next_attempt_at LIMIT $1
            FOR UPDATE SKIP LOCKED)
         UPDATE webhook_deliveries d
            SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
           FROM due, webhook_subscriptions s
          WHERE d.id = due.id AND s.id = d.subscription_id
         RETURNING d.id, d.event_type, d.payload, d.attempts, s.url, s.secret_sealed`,
        [BATCH, leaseMs / 1000],
      );
      return rows;
    });
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const body = JSON.stringify(delivery.payload);
    const started = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'wharf-webhooks/1',
          'Wharf-Event': delivery.event_type,
          'Wharf-Delivery': delivery.id,
          [SIGNATURE_HEADER]: signatureHeader(this.secrets.open(delivery.secret_sealed), timestamp, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.config.WEBHOOK_TIMEOUT_MS), this.shutdown.signal]),
      });
      status = response.status;
      await response.body?.cancel().catch(() => undefined);
      if (status < 200 || status >= 300) error = `the subscriber answered HTTP ${status}`;
    } catch (caught) {
      const cause = (caught as { cause?: { code?: string } }).cause?.code;
      error = `${(caught as Error).name}: ${(caught as Error).message}${cause ? ` (${cause})` : ''}`.slice(0, MAX_ERROR_LENGTH);
    }
    await this.record(delivery, status, error, Date.now() - started).catch((recordError: Error) =>
      this.logger.warn(`recording webhook delivery ${delivery.id} failed: ${recordError.message}`),
    );
  }

  private async record(delivery: ClaimedDelivery, status: number | null, error: string | null, durationMs: number): Promise<void> {
    const exhausted = delivery.attempts >= this.config.WEBHOOK_MAX_ATTEMPTS;
    const state = error === null ? 'delivered' : exhausted ? 'failed' : 'pending';
    const delayMs = retryDelayMs(delivery.attempts, this.config.WEBHOOK_RETRY_BASE_MS, this.config.WEBHOOK_RETRY_MAX_MS);
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO webhook_delivery_attempts (delivery_id, attempt, status, error, duration_ms) VALUES ($1, $2, $3, $4, $5)`,
        [delivery.id, delivery.attempts, status, error, durationMs],
      );
      await manager.query(
        `UPDATE webhook_deliveries
            SET state = $2, last_status = $3, last_error = $4,
                delivered_at = CASE WHEN $2 = 'delivered' THEN now() END,
                next_attempt_at = CASE WHEN $2 = 'pending' THEN now() + make_interval(secs => $5) ELSE next_attempt_at END
          WHERE id = $1`,
        [delivery.id, state, status, error, delayMs / 1000],
      );
    });
  }
}
