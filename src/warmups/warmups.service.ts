import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { ModelsService } from '../models/models.service';
import type { VersionTarget, WarmupTarget } from '../nodes/assignments';
import { CreateWarmupDto, WarmupDto, WarmupListDto } from './dto/warmup.dto';
import { WarmupResolver } from './warmup-resolver';

interface WarmupRow {
  id: string;
  project_id: string;
  project: string;
  model_id: string;
  model: string;
  reference: string;
  match_labels: Record<string, string>;
  max_nodes: number | null;
  created_by: string;
  created_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SELECT_WARMUPS = `
  SELECT w.id, w.project_id, p.name AS project, w.model_id, m.name AS model, w.reference, w.match_labels,
         w.max_nodes, w.created_by, w.created_at
    FROM warmups w JOIN projects p ON p.id = w.project_id JOIN models m ON m.id = w.model_id`;

/** Warm-ups: "this reference should be ready on nodes matching this selector". */
@Injectable()
export class WarmupsService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ModelsService) private readonly models: ModelsService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(WarmupResolver) private readonly resolver: WarmupResolver,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  async create(project: ProjectContext, actor: Actor, dto: CreateWarmupDto): Promise<WarmupDto> {
    WarmupResolver.check(dto.ref);
    const model = await this.models.find(project, dto.model);
    await this.resolver.resolveOrThrow({ projectId: project.id, project: project.name, modelId: model.id, model: model.name }, dto.ref);
    const id = await this.dataSource.transaction(async (manager) => {
      const rows: { id: string }[] = await manager.query(
        `INSERT INTO warmups (project_id, model_id, reference, match_labels, max_nodes, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [project.id, model.id, dto.ref, dto.selector.matchLabels, dto.maxNodes ?? null, actor.principalName],
      );
      await this.audit.record(manager, actor, {
        action: 'warmup.create',
        target: `${project.name}/${model.name}:${dto.ref}`,
        project: project.name,
        details: { id: rows[0].id, matchLabels: dto.selector.matchLabels, maxNodes: dto.maxNodes ?? null },
      });
      return rows[0].id;
    });
    return this.get(project, id);
  }

  async list(project: ProjectContext): Promise<WarmupListDto> {
    const rows: WarmupRow[] = await this.dataSource.query(`${SELECT_WARMUPS} WHERE w.project_id = $1 ORDER BY w.created_at, w.id`, [project.id]);
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
      const [, deleted] = (await manager.query(`DELETE FROM warmups WHERE id = $1 AND project_id = $2`, [row.id, project.id])) as [unknown, number];
      if (!deleted) throw new WharfError('warmup_not_found', `No warm-up ${id} in project "${project.name}"`);
      await this.audit.record(manager, actor, {
        action: 'warmup.delete',
        target: `${project.name}/${row.model}:${row.reference}`,
        project: project.name,
        details: { id: row.id },
      });
    });
  }

  /** The warm-ups whose selector matches these labels, each with the version it names now. */
  async targetsFor(labels: Record<string, string>): Promise<WarmupTarget[]> {
    const rows: WarmupRow[] = await this.dataSource.query(`${SELECT_WARMUPS} WHERE $1::jsonb @> w.match_labels ORDER BY w.id`, [
      JSON.stringify(labels),
    ]);
    const targets: WarmupTarget[] = [];
    for (const row of rows) {
      targets.push({ id: row.id, matchLabels: row.match_labels, maxNodes: row.max_nodes, target: await this.resolve(row) });
    }
    return targets;
  }

  private resolve(row: WarmupRow): Promise<VersionTarget | null> {
    return this.resolver.resolve({ projectId: row.project_id, project: row.project, modelId: row.model_id, model: row.model }, row.reference);
  }

  private async find(project: ProjectContext, id: string): Promise<WarmupRow> {
    const rows: WarmupRow[] = UUID.test(id) ? await this.dataSource.query(`${SELECT_WARMUPS} WHERE w.id = $1 AND w.project_id = $2`, [id, project.id]) : [];
    if (!rows[0]) throw new WharfError('warmup_not_found', `No warm-up ${id} in project "${project.name}"`);
    return rows[0];
  }

  private async dto(row: WarmupRow): Promise<WarmupDto> {
    const target = await this.resolve(row);
    const nodes: { node: string; state: string; bytes_done: string; bytes_total: string }[] = target
      ? await this.dataSource.query(
          `SELECT n.name AS node, e.state, e.bytes_done, e.bytes_total
             FROM node_cache_entries e
             JOIN nodes n ON n.name = e.node_name
             JOIN model_versions v ON v.id = e.version_id
            WHERE v.model_id = $1 AND v.number = $2 AND n.labels @> $3::jsonb
              AND n.last_heartbeat_at > now() - make_interval(secs => $4)
            ORDER BY n.name`,
          [row.model_id, target.version, JSON.stringify(row.match_labels), this.config.NODE_READY_TIMEOUT_SECONDS],
        )
      : [];
    return {
      id: row.id,
      project: row.project,
      model: row.model,
      ref: row.reference,
      selector: { matchLabels: row.match_labels },
      maxNodes: row.max_nodes,
      version: target?.version ?? null,
      manifestDigest: target?.manifestDigest ?? null,
      nodes: nodes.map((node) => ({ node: node.node, state: node.state, bytesDone: Number(node.bytes_done), bytesTotal: Number(node.bytes_total) })),
      createdBy: row.created_by,
      createdAt: new Date(row.created_at).toISOString(),
    };
  }
}
