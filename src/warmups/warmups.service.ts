import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { ModelsService } from '../models/models.service';
import { CreateWarmupDto, WarmupDto, WarmupListDto } from './dto/warmup.dto';
import { WarmupAssignmentsRepository } from './warmup-assignments.repository';
import { WarmupResolver } from './warmup-resolver';
import type { VersionTarget, WarmupTarget } from './warmup-target';
import { warmupProgress, WarmupRow, WarmupsRepository } from './warmups.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Warm-ups: "this reference should be ready on nodes matching this selector". */
@Injectable()
export class WarmupsService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(WarmupsRepository) private readonly warmups: WarmupsRepository,
    @Inject(WarmupAssignmentsRepository) private readonly placements: WarmupAssignmentsRepository,
    @Inject(ModelsService) private readonly models: ModelsService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(WarmupResolver) private readonly resolver: WarmupResolver,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  /** A capped warm-up is created stale: the next heartbeat on any replica places it. */
  async create(project: ProjectContext, actor: Actor, dto: CreateWarmupDto): Promise<WarmupDto> {
    WarmupResolver.check(dto.ref);
    const model = await this.models.find(project, dto.model);
    await this.resolver.resolveOrThrow({ projectId: project.id, project: project.name, modelId: model.id, model: model.name }, dto.ref);
    const id = await this.dataSource.transaction(async (manager) => {
      const created = await this.warmups.insert(manager, {
        projectId: project.id,
        modelId: model.id,
        reference: dto.ref,
        matchLabels: dto.selector.matchLabels,
        maxNodes: dto.maxNodes ?? null,
        createdBy: actor.principalName,
      });
      await this.audit.record(manager, actor, {
        action: 'warmup.create',
        target: `${project.name}/${model.name}:${dto.ref}`,
        project: project.name,
        details: { id: created, matchLabels: dto.selector.matchLabels, maxNodes: dto.maxNodes ?? null },
      });
      return created;
    });
    return this.get(project, id);
  }

  async list(project: ProjectContext): Promise<WarmupListDto> {
    const rows = await this.warmups.listInProject(project.id);
    const items: WarmupDto[] = [];
    for (const row of rows) items.push(await this.dto(row));
    return { items };
  }

  async get(project: ProjectContext, id: string): Promise<WarmupDto> {
    return this.dto(await this.find(project, id));
  }

  async remove(project: ProjectContext, actor: Actor, id: string): Promise<void> {
    const row = await this.find(project, id);
    await this.dataSource.transaction(async (manager) => {
      if (!(await this.warmups.delete(manager, row.id, project.id))) throw new WharfError('warmup_not_found', `No warm-up ${id} in project "${project.name}"`);
      await this.audit.record(manager, actor, {
        action: 'warmup.delete',
        target: `${project.name}/${row.model}:${row.reference}`,
        project: project.name,
        details: { id: row.id },
      });
    });
  }

  /** The warm-up with the version its reference names now. */
  async target(row: WarmupRow): Promise<WarmupTarget> {
    return { id: row.id, matchLabels: row.match_labels, maxNodes: row.max_nodes, target: await this.resolve(row) };
  }

  private resolve(row: WarmupRow): Promise<VersionTarget | null> {
    return this.resolver.resolve({ projectId: row.project_id, project: row.project, modelId: row.model_id, model: row.model }, row.reference);
  }

  private async find(project: ProjectContext, id: string): Promise<WarmupRow> {
    const row = UUID.test(id) ? await this.warmups.findInProject(id, project.id) : undefined;
    if (!row) throw new WharfError('warmup_not_found', `No warm-up ${id} in project "${project.name}"`);
    return row;
  }

  private async dto(row: WarmupRow): Promise<WarmupDto> {
    const target = await this.resolve(row);
    const nodes = target ? await warmupProgress(this.dataSource, row.model_id, target.version, row.match_labels, this.config.NODE_READY_TIMEOUT_SECONDS) : [];
    return {
      id: row.id,
      project: row.project,
      model: row.model,
      ref: row.reference,
      selector: { matchLabels: row.match_labels },
      maxNodes: row.max_nodes,
      version: target?.version ?? null,
      manifestDigest: target?.manifestDigest ?? null,
      placedNodes: row.max_nodes === null ? null : await this.placements.nodesOf(this.dataSource, row.id),
      nodes: nodes.map((node) => ({ node: node.node, state: node.state, bytesDone: Number(node.bytes_done), bytesTotal: Number(node.bytes_total) })),
      createdBy: row.created_by,
      createdAt: new Date(row.created_at).toISOString(),
    };
  }
}
