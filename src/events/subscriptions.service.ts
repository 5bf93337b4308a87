import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { DEFAULT_PAGE_SIZE, Page, paginateSql } from '../common/pagination/cursor';
import { PageQuery } from '../common/pagination/list-query.dto';
import { EventType } from './event-types';
import { CreatedSubscriptionDto, CreateSubscriptionDto, DeliveryDto, ListDeliveriesQuery, SubscriptionDto } from './dto/subscription.dto';
import { SECRET_BOX } from './events.tokens';
import { SecretBox } from './secret-box';

interface SubscriptionRow {
  id: string;
  url: string;
  events: EventType[];
  description: string;
  created_by: string;
  created_at: Date;
}

interface DeliveryRow {
  id: string;
  event_id: string;
  event_type: string;
  state: string;
  attempts: number;
  next_attempt_at: Date;
  delivered_at: Date | null;
  created_at: Date;
  payload: Record<string, unknown>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Subscriber URLs: absolute http(s) without credentials in them. */
export function checkedWebhookUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidUrl('must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidUrl('must be an http:// or https:// URL');
  if (url.username || url.password) throw invalidUrl('must not carry credentials; the signature authenticates deliveries');
  return url.toString();
}

function invalidUrl(message: string): WharfError {
  return new WharfError('validation_failed', `url: ${message}`, { errors: [{ field: 'url', message }] });
}

function subscriptionDto(project: ProjectContext, row: SubscriptionRow): SubscriptionDto {
  return {
    id: row.id,
    project: project.name,
    url: row.url,
    events: row.events,
    description: row.description,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  };
}

const COLUMNS = `id, url, events, description, created_by, created_at`;

@Injectable()
export class SubscriptionsService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(SECRET_BOX) private readonly secrets: SecretBox,
  ) {}

  async create(project: ProjectContext, actor: Actor, dto: CreateSubscriptionDto): Promise<CreatedSubscriptionDto> {
    const url = checkedWebhookUrl(dto.url);
    const events = [...new Set(dto.events)];
    const generated = dto.secret === undefined ? `whsec_${randomBytes(32).toString('base64url')}` : undefined;
    const secret = dto.secret ?? generated!;
    const row = await this.dataSource.transaction(async (manager) => {
      const [inserted]: SubscriptionRow[] = await manager.query(
        `INSERT INTO webhook_subscriptions (project_id, url, events, secret_sealed, description, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [project.id, url, events, this.secrets.seal(secret), dto.description ?? '', actor.principalName],
      );
      await this.audit.record(manager, actor, {
        action: 'subscription.create',
        target: `${project.name}/subscriptions/${inserted.id}`,
        project: project.name,
        details: { url, events },
      });
      return inserted;
    });
    return { ...subscriptionDto(project, row), ...(generated ? { secret: generated } : {}) };
  }

  async list(project: ProjectContext, query: PageQuery): Promise<Page<SubscriptionDto>> {
    const page = await paginateSql<SubscriptionRow>(
      this.dataSource,
      `SELECT ${COLUMNS} FROM webhook_subscriptions WHERE project_id = $1`,
      [project.id],
      { sort: 'createdAt', column: 'created_at', idColumn: 'id', cast: 'timestamptz', descending: false },
      query.cursor,
      query.limit ?? DEFAULT_PAGE_SIZE,
    );
    return { items: page.items.map((row) => subscriptionDto(project, row)), nextCursor: page.nextCursor };
  }

  async get(project: ProjectContext, id: string): Promise<SubscriptionDto> {
    return subscriptionDto(project, await this.find(project, id));
  }

  /** Deleting a subscription drops its pending deliveries and its log with it. */
  async remove(project: ProjectContext, actor: Actor, id: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const row = await this.find(project, id, manager);
      await manager.query(`DELETE FROM webhook_subscriptions WHERE id = $1`, [row.id]);
      await this.audit.record(manager, actor, {
        action: 'subscription.delete',
        target: `${project.name}/subscriptions/${row.id}`,
        project: project.name,
        details: { url: row.url, events: row.events },
      });
    });
  }

  async deliveries(project: ProjectContext, id: string, query: ListDeliveriesQuery): Promise<Page<DeliveryDto>> {
    const subscription = await this.find(project, id);
    const page = await paginateSql<DeliveryRow>(
      this.dataSource,
      `SELECT id, event_id, event_type, state, attempts, next_attempt_at, delivered_at, created_at, payload
         FROM webhook_deliveries WHERE subscription_id = $1 AND ($2::text IS NULL OR state = $2)`,
      [subscription.id, query.state ?? null],
      { sort: '-createdAt', column: 'created_at', idColumn: 'id', cast: 'timestamptz', descending: true },
      query.cursor,
      query.limit ?? DEFAULT_PAGE_SIZE,
    );
    const items = page.items;
    const attempts: { delivery_id: string; attempt: number; attempted_at: Date; status: number | null; error: string | null; duration_ms: number }[] =
      items.length === 0
        ? []
        : await this.dataSource.query(
            `SELECT delivery_id, attempt, attempted_at, status, error, duration_ms FROM webhook_delivery_attempts
              WHERE delivery_id = ANY ($1) ORDER BY attempt`,
            [items.map((row) => row.id)],
          );
    return {
      items: items.map((row) => ({
        id: row.id,
        eventId: row.event_id,
        event: row.event_type,
        state: row.state,
        attempts: row.attempts,
        nextAttemptAt: row.state === 'pending' ? row.next_attempt_at.toISOString() : null,
        deliveredAt: row.delivered_at?.toISOString() ?? null,
        createdAt: row.created_at.toISOString(),
        payload: row.payload,
        log: attempts
          .filter((attempt) => attempt.delivery_id === row.id)
          .map((attempt) => ({
            attempt: attempt.attempt,
            attemptedAt: attempt.attempted_at.toISOString(),
            status: attempt.status,
            error: attempt.error,
            durationMs: attempt.duration_ms,
          })),
      })),
      nextCursor: page.nextCursor,
    };
  }

  private async find(project: ProjectContext, id: string, manager: EntityManager = this.dataSource.manager): Promise<SubscriptionRow> {
    const rows: SubscriptionRow[] = UUID.test(id)
      ? await manager.query(`SELECT ${COLUMNS} FROM webhook_subscriptions WHERE id = $1 AND project_id = $2`, [id, project.id])
      : [];
    if (!rows[0]) throw new WharfError('subscription_not_found', `No webhook subscription "${id}" in project "${project.name}"`);
    return rows[0];
  }
}
