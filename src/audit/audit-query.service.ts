import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuthContext } from '../auth/auth-context';
import { roleAtLeast } from '../auth/roles';
import { WharfError } from '../common/errors/wharf-error';
import { DEFAULT_PAGE_SIZE, paginate } from '../common/pagination/cursor';
import { likePrefix } from '../common/pagination/sort';
import { assertName } from '../common/validation/names';
import { AuditEvent } from './audit-event.entity';
import { AuditEventDto, AuditPageDto, ListAuditQuery } from './dto/audit.dto';

const SORT = '-id';

function auditDto(event: AuditEvent): AuditEventDto {
  return {
    id: String(event.id),
    occurredAt: event.occurredAt.toISOString(),
    actor: event.actor,
    project: event.project,
    action: event.action,
    target: event.target,
    details: event.details,
    requestId: event.requestId,
  };
}

/**
 * Reads the audit log. The platform admin (a token without project scope or lower ceiling)
 * sees everything, including events outside any project; anyone else sees the events of the
 * projects where the token acts as admin, and an empty list when there is none.
 */
@Injectable()
export class AuditQueryService {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async list(auth: AuthContext, query: ListAuditQuery): Promise<AuditPageDto> {
    const builder = this.dataSource.getRepository(AuditEvent).createQueryBuilder('event');
    const visible = await this.visibleProjects(auth);
    if (query.project !== undefined) {
      const name = assertName('project', query.project, 'project');
      if (visible !== 'all' && !visible.has(name)) await this.refuseProject(auth, name);
      builder.andWhere('event.project = :project', { project: name });
    } else if (visible !== 'all') {
      if (visible.size === 0) return { items: [], nextCursor: null };
      builder.andWhere('event.project IN (:...projects)', { projects: [...visible] });
    }
    if (query.actor !== undefined) builder.andWhere('event.actor = :actor', { actor: query.actor });
    if (query.action !== undefined) {
      if (query.action.endsWith('*')) builder.andWhere('event.action LIKE :action', { action: likePrefix(query.action.slice(0, -1)) });
      else builder.andWhere('event.action = :action', { action: query.action });
    }
    if (query.since !== undefined) builder.andWhere('event.occurred_at >= :since', { since: new Date(query.since) });
    if (query.until !== undefined) builder.andWhere('event.occurred_at < :until', { until: new Date(query.until) });
    // The id is the order itself: a bigint that grows with every event.
    const page = await paginate(
      builder,
      { sort: SORT, column: 'event.id', idColumn: 'event.id', cast: 'bigint', idCast: 'bigint', descending: true },
      query.cursor,
      query.limit ?? DEFAULT_PAGE_SIZE,
    );
    return { items: page.items.map(auditDto), nextCursor: page.nextCursor };
  }

  /** The projects whose audit log this token may read, or 'all' for the platform admin. */
  private async visibleProjects(auth: AuthContext): Promise<'all' | Set<string>> {
    if (!roleAtLeast(auth.roleCeiling ?? 'admin', 'admin')) return new Set();
    if (auth.platformAdmin && !auth.tokenProjectId) return 'all';
    const rows: { name: string }[] = auth.platformAdmin
      ? await this.dataSource.query(`SELECT name FROM projects WHERE id = $1`, [auth.tokenProjectId])
      : await this.dataSource.query(
          `SELECT pr.name FROM project_members m JOIN projects pr ON pr.id = m.project_id
            WHERE m.principal_id = $1 AND m.role = 'admin' AND ($2::uuid IS NULL OR pr.id = $2::uuid)`,
          [auth.principalId, auth.tokenProjectId],
        );
    return new Set(rows.map((row) => row.name));
  }

  /** Like the access guard: no role in the project is 404, a lower role is 403. */
  private async refuseProject(auth: AuthContext, name: string): Promise<never> {
    const rows: { role: string | null }[] = await this.dataSource.query(
      `SELECT m.role FROM projects pr LEFT JOIN project_members m ON m.project_id = pr.id AND m.principal_id = $2
        WHERE pr.name = $1 AND ($3::uuid IS NULL OR pr.id = $3::uuid)`,
      [name, auth.principalId, auth.tokenProjectId],
    );
    if (rows[0] && (rows[0].role || auth.platformAdmin)) {
      throw new WharfError('forbidden', `Reading the audit log of project "${name}" needs the admin role there`);
    }
    throw new WharfError('project_not_found', `No project "${name}"`);
  }
}
