import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { InvalidationService } from '../invalidation/invalidation.service';
import { Actor, AuthContext, ProjectContext } from '../auth/auth-context';
import { lowerRole, Role } from '../auth/roles';
import { WharfError } from '../common/errors/wharf-error';
import { Page, paginate } from '../common/pagination/cursor';
import { likePrefix, parseSort } from '../common/pagination/sort';
import { applyLabelSelector, parseLabelSelector } from '../common/validation/labels';
import { assertName } from '../common/validation/names';
import { CreateProjectDto, ListProjectsQuery, ProjectDto, UpdateProjectDto } from './dto/project.dto';
import { Project } from './project.entity';

const PROJECT_SORTS = {
  name: { column: 'project.name', cast: 'text' },
  createdAt: { column: 'project.created_at', cast: 'timestamptz' },
};

export function projectDto(project: Project, role: Role): ProjectDto {
  return {
    name: project.name,
    description: project.description,
    labels: project.labels,
    role,
    createdAt: project.createdAt.toISOString(),
    updatedAt: project.updatedAt.toISOString(),
  };
}

@Injectable()
export class ProjectsService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(InvalidationService) private readonly invalidation: InvalidationService,
  ) {}

  /** Creates a project; its creator becomes its first admin. */
  async create(auth: AuthContext, actor: Actor, dto: CreateProjectDto): Promise<ProjectDto> {
    const name = assertName('project', dto.name, 'name');
    return this.dataSource.transaction(async (manager) => {
      const inserted: { id: string }[] = await manager.query(
        `INSERT INTO projects (name, description, labels) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING RETURNING id`,
        [name, dto.description ?? '', dto.labels ?? {}],
      );
      if (inserted.length === 0) throw new WharfError('project_exists', `Project "${name}" already exists`);
      await manager.query(`INSERT INTO project_members (project_id, principal_id, role) VALUES ($1, $2, 'admin')`, [
        inserted[0].id,
        auth.principalId,
      ]);
      await this.audit.record(manager, actor, {
        action: 'project.create',
        target: name,
        project: name,
        details: { description: dto.description ?? '', labels: dto.labels ?? {} },
      });
      return projectDto(await manager.findOneByOrFail(Project, { id: inserted[0].id }), 'admin');
    });
  }

  /** The projects the caller has a role in (every project for a platform admin). */
  async list(auth: AuthContext, query: ListProjectsQuery): Promise<Page<ProjectDto>> {
    const order = parseSort(query.sort, PROJECT_SORTS, 'name', 'project.id');
    const selector = parseLabelSelector(query.label);
    const builder = this.dataSource
      .getRepository(Project)
      .createQueryBuilder('project')
      .leftJoin('project_members', 'member', 'member.project_id = project.id AND member.principal_id = :principalId', {
        principalId: auth.principalId,
      })
      .addSelect('member.role', 'member_role');
    if (!auth.platformAdmin) builder.andWhere('member.role IS NOT NULL');
    if (auth.tokenProjectId) builder.andWhere('project.id = :tokenProjectId', { tokenProjectId: auth.tokenProjectId });
    if (query.prefix) builder.andWhere(`project.name LIKE :prefix`, { prefix: likePrefix(query.prefix) });
    applyLabelSelector(builder, 'project.labels', selector);
    const page = await paginate<Project, { member_role: Role | null }>(builder, order, query.cursor, query.limit);
    return {
      items: page.items.map((project, index) => {
        const role: Role = auth.platformAdmin ? 'admin' : page.raw[index].member_role!;
        return projectDto(project, lowerRole(role, auth.roleCeiling));
      }),
      nextCursor: page.nextCursor,
    };
  }

  async get(project: ProjectContext): Promise<ProjectDto> {
    return projectDto(await this.dataSource.getRepository(Project).findOneByOrFail({ id: project.id }), project.role);
  }

  async update(project: ProjectContext, actor: Actor, dto: UpdateProjectDto): Promise<ProjectDto> {
    return this.dataSource.transaction(async (manager) => {
      const changes: Partial<Project> = {};
      if (dto.description !== undefined) changes.description = dto.description;
      if (dto.labels !== undefined) changes.labels = dto.labels;
      if (Object.keys(changes).length) await manager.update(Project, { id: project.id }, changes);
      await this.audit.record(manager, actor, { action: 'project.update', target: project.name, project: project.name, details: { ...changes } });
      return projectDto(await manager.findOneByOrFail(Project, { id: project.id }), project.role);
    });
  }

  /** Deletes an empty project. A project that still holds models is refused. */
  async remove(project: ProjectContext, actor: Actor): Promise<void> {
    await this.dataSource.transaction(async (manager: EntityManager) => {
      await manager.query(`SELECT id FROM projects WHERE id = $1 FOR UPDATE`, [project.id]);
      const [{ count }]: { count: number }[] = await manager.query(
        `SELECT count(*)::int AS count FROM models WHERE project_id = $1`,
        [project.id],
      );
      if (count > 0) {
        throw new WharfError('project_not_empty', `Project "${project.name}" still has ${count} model(s); delete them first`);
      }
      await manager.delete(Project, { id: project.id });
      await this.audit.record(manager, actor, { action: 'project.delete', target: project.name, project: project.name });
      await this.invalidation.publish(manager, { kind: 'auth' });
    });
  }
}
