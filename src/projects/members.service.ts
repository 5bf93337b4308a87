import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { Principal } from '../auth/principal.entity';
import { Role } from '../auth/roles';
import { WharfError } from '../common/errors/wharf-error';
import { assertName } from '../common/validation/names';
import { InvalidationService } from '../invalidation/invalidation.service';
import { MemberDto, MemberListDto } from './dto/project.dto';

interface MemberRow {
  principal: string;
  kind: string;
  role: Role;
  created_at: Date;
  updated_at: Date;
}

function memberDto(row: MemberRow): MemberDto {
  return {
    principal: row.principal,
    kind: row.kind,
    role: row.role,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const MEMBER_COLUMNS = `p.name AS principal, p.kind, m.role, m.created_at, m.updated_at`;

@Injectable()
export class MembersService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(InvalidationService) private readonly invalidation: InvalidationService,
  ) {}

  async list(project: ProjectContext): Promise<MemberListDto> {
    const rows: MemberRow[] = await this.dataSource.query(
      `SELECT ${MEMBER_COLUMNS} FROM project_members m JOIN principals p ON p.id = m.principal_id
        WHERE m.project_id = $1 ORDER BY p.name`,
      [project.id],
    );
    return { items: rows.map(memberDto) };
  }

  async get(project: ProjectContext, principalName: string): Promise<MemberDto> {
    const rows: MemberRow[] = await this.dataSource.query(
      `SELECT ${MEMBER_COLUMNS} FROM project_members m JOIN principals p ON p.id = m.principal_id
        WHERE m.project_id = $1 AND p.name = $2`,
      [project.id, assertName('principal', principalName)],
    );
    if (!rows[0]) throw new WharfError('member_not_found', `"${principalName}" is not a member of project "${project.name}"`);
    return memberDto(rows[0]);
  }

  /**
   * Adds a member or changes a role. The principal is created if it does not exist yet, so an
   * admin can grant access before the person's first token.
   */
  async put(project: ProjectContext, actor: Actor, principalName: string, role: Role): Promise<MemberDto> {
    const name = assertName('principal', principalName);
    await this.dataSource.transaction(async (manager) => {
      await this.lockProject(manager, project);
      await manager.query(`INSERT INTO principals (name, kind) VALUES ($1, 'user') ON CONFLICT (name) DO NOTHING`, [name]);
      const principal = await manager.findOneByOrFail(Principal, { name });
      const previous: { role: Role }[] = await manager.query(
        `SELECT role FROM project_members WHERE project_id = $1 AND principal_id = $2 FOR UPDATE`,
        [project.id, principal.id],
      );
      if (previous[0]?.role === 'admin' && role !== 'admin') await this.assertAnotherAdmin(manager, project, principal.id);
      await manager.query(
        `INSERT INTO project_members (project_id, principal_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (project_id, principal_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()`,
        [project.id, principal.id, role],
      );
      await this.audit.record(manager, actor, {
        action: 'member.put',
        target: `${project.name}/members/${name}`,
        project: project.name,
        details: { role, previousRole: previous[0]?.role ?? null },
      });
      await this.invalidation.publish(manager, { kind: 'auth' });
    });
    return this.get(project, name);
  }

  async remove(project: ProjectContext, actor: Actor, principalName: string): Promise<void> {
    const name = assertName('principal', principalName);
    await this.dataSource.transaction(async (manager) => {
      await this.lockProject(manager, project);
      const rows: { principal_id: string; role: Role }[] = await manager.query(
        `SELECT m.principal_id, m.role FROM project_members m JOIN principals p ON p.id = m.principal_id
          WHERE m.project_id = $1 AND p.name = $2 FOR UPDATE OF m`,
        [project.id, name],
      );
      if (!rows[0]) throw new WharfError('member_not_found', `"${name}" is not a member of project "${project.name}"`);
      if (rows[0].role === 'admin') await this.assertAnotherAdmin(manager, project, rows[0].principal_id);
      await manager.query(`DELETE FROM project_members WHERE project_id = $1 AND principal_id = $2`, [project.id, rows[0].principal_id]);
      await this.audit.record(manager, actor, {
        action: 'member.remove',
        target: `${project.name}/members/${name}`,
        project: project.name,
        details: { role: rows[0].role },
      });
      await this.invalidation.publish(manager, { kind: 'auth' });
    });
  }

  /**
   * Membership changes of one project take turns on the project row, so two concurrent
   * demotions of the last two admins cannot both see the other one still there.
   */
  private async lockProject(manager: EntityManager, project: ProjectContext): Promise<void> {
    await manager.query(`SELECT id FROM projects WHERE id = $1 FOR NO KEY UPDATE`, [project.id]);
  }

  private async assertAnotherAdmin(manager: EntityManager, project: ProjectContext, leaving: string): Promise<void> {
    const admins: { principal_id: string }[] = await manager.query(
      `SELECT principal_id FROM project_members WHERE project_id = $1 AND role = 'admin'`,
      [project.id],
    );
    if (!admins.some((admin) => admin.principal_id !== leaving)) {
      throw new WharfError('last_admin', `"${project.name}" would have no admin left; make another member admin first`);
    }
  }
}
