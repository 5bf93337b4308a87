import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { parseLabelSelector } from '../common/validation/labels';
import { assertName } from '../common/validation/names';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { ModelsService } from '../models/models.service';
import { parseVersionNumber } from '../versions/versions.service';
import { WarmupsService } from '../warmups/warmups.service';
import { assignmentsFor, Demand, EntryState, NodeView, versionKey } from './assignments';
import { DemandDto, HeartbeatDto, HeartbeatReplyDto, ListNodesQuery, LocationListDto, NodeDto, NodeListDto, RejectedDemandDto } from './dto/node.dto';

interface NodeRow {
  name: string;
  labels: Record<string, string>;
  capacity_bytes: string;
  budget_bytes: string;
  used_bytes: string;
  agent_version: string;
  demands: DemandDto[];
  reported_by: string;
  first_seen_at: Date;
  last_heartbeat_at: Date;
  ready: boolean;
}

const SELECT_NODES = `
  SELECT name, labels, capacity_bytes, budget_bytes, used_bytes, agent_version, demands, reported_by, first_seen_at,
         last_heartbeat_at, last_heartbeat_at > now() - make_interval(secs => $1) AS ready
    FROM nodes`;

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
}

/** Nodes as their agents report them, and the assignments each heartbeat answers with. */
@Injectable()
export class NodesService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(WarmupsService) private readonly warmups: WarmupsService,
    @Inject(ModelsService) private readonly models: ModelsService,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  /**
   * Records the node's inventory and answers its assignments. The inventory replaces the last
   * one in one transaction under the node row's lock. Registering a node and changing its
   * labels or budget are audited; routine inventory updates are telemetry and are not.
   */
  async heartbeat(actor: Actor, rawName: string, dto: HeartbeatDto): Promise<HeartbeatReplyDto> {
    const name = assertName('node', rawName, 'node');
    await this.dataSource.transaction(async (manager) => {
      const previous: { labels: Record<string, string>; budget_bytes: string }[] = await manager.query(
        `SELECT labels, budget_bytes FROM nodes WHERE name = $1 FOR UPDATE`,
        [name],
      );
      await manager.query(
        `INSERT INTO nodes (name, labels, capacity_bytes, budget_bytes, used_bytes, agent_version, demands, reported_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (name) DO UPDATE SET labels = EXCLUDED.labels, capacity_bytes = EXCLUDED.capacity_bytes,
           budget_bytes = EXCLUDED.budget_bytes, used_bytes = EXCLUDED.used_bytes, agent_version = EXCLUDED.agent_version,
           demands = EXCLUDED.demands, reported_by = EXCLUDED.reported_by, last_heartbeat_at = now()`,
        [
          name,
          dto.labels,
          dto.capacityBytes,
          dto.budgetBytes,
          dto.usedBytes,
          dto.agentVersion ?? '',
          JSON.stringify(dto.demands.map(({ project, model, version, reason }) => ({ project, model, version, reason }))),
          actor.principalName,
        ],
      );
      await manager.query(`DELETE FROM node_cache_entries WHERE node_name = $1`, [name]);
      if (dto.entries.length) {
        // Entries naming versions the registry does not know (deleted since) are dropped.
        await manager.query(
          `INSERT INTO node_cache_entries (node_name, version_id, state, bytes_done, bytes_total)
           SELECT $1, v.id, e.state, e."bytesDone", e."bytesTotal"
             FROM jsonb_to_recordset($2::jsonb) AS e(project text, model text, version int, state text, "bytesDone" bigint, "bytesTotal" bigint)
             JOIN projects p ON p.name = e.project
             JOIN models m ON m.project_id = p.id AND m.name = e.model
             JOIN model_versions v ON v.model_id = m.id AND v.number = e.version
           ON CONFLICT (node_name, version_id) DO NOTHING`,
          [name, JSON.stringify(dto.entries)],
        );
      }
      const before = previous[0];
      if (!before || !sameLabels(before.labels, dto.labels) || Number(before.budget_bytes) !== dto.budgetBytes) {
        await this.audit.record(manager, actor, {
          action: before ? 'node.update' : 'node.register',
          target: `node:${name}`,
          details: { labels: dto.labels, budgetBytes: dto.budgetBytes, previous: before ? { labels: before.labels, budgetBytes: Number(before.budget_bytes) } : null },
        });
      }
    });
    // Computed after the commit: resolving references reads through the pool, and embedded
    // Postgres has one connection, which the transaction holds until it ends.
    const { demands, rejected } = await this.checkDemands(dto.demands);
    const self: NodeView = { name, labels: dto.labels, holds: new Map(dto.entries.map((entry) => [versionKey(entry), entry.state])) };
    const warmups = await this.warmups.targetsFor(dto.labels);
    const limited = warmups.filter((warmup) => warmup.maxNodes !== null && warmup.target);
    const nodes = limited.length ? await this.readyNodes(limited.map((warmup) => versionKey(warmup.target!))) : [];
    const assignments = assignmentsFor(self, warmups, nodes, demands).map((assignment) => ({
      ...assignment,
      manifestUrl: `/api/v1/projects/${assignment.project}/models/${assignment.model}/versions/${assignment.version}/files`,
    }));
    return { node: name, assignments, rejected, readyTimeoutSeconds: this.config.NODE_READY_TIMEOUT_SECONDS };
  }

  async list(query: ListNodesQuery): Promise<NodeListDto> {
    const selector = parseLabelSelector(query.label);
    const rows: NodeRow[] = await this.dataSource.query(`${SELECT_NODES} ORDER BY name`, [this.config.NODE_READY_TIMEOUT_SECONDS]);
    const items = rows
      .filter((row) => Object.entries(selector.equals).every(([key, value]) => row.labels[key] === value))
      .filter((row) => selector.exists.every((key) => Object.prototype.hasOwnProperty.call(row.labels, key)))
      .filter((row) => query.ready === undefined || row.ready === (query.ready === 'true'))
      .map((row) => this.dto(row));
    return { items };
  }

  async get(rawName: string): Promise<NodeDto> {
    const name = assertName('node', rawName, 'node');
    const rows: NodeRow[] = await this.dataSource.query(`${SELECT_NODES} WHERE name = $2`, [this.config.NODE_READY_TIMEOUT_SECONDS, name]);
    if (!rows[0]) throw new WharfError('node_not_found', `No node "${name}"`);
    const entries: { project: string; model: string; version: number; state: EntryState; bytes_done: string; bytes_total: string; updated_at: Date }[] =
      await this.dataSource.query(
        `SELECT p.name AS project, m.name AS model, v.number AS version, e.state, e.bytes_done, e.bytes_total, e.updated_at
           FROM node_cache_entries e JOIN model_versions v ON v.id = e.version_id
           JOIN models m ON m.id = v.model_id JOIN projects p ON p.id = m.project_id
          WHERE e.node_name = $1 ORDER BY p.name, m.name, v.number`,
        [name],
      );
    return {
      ...this.dto(rows[0]),
      entries: entries.map((entry) => ({
        project: entry.project,
        model: entry.model,
        version: entry.version,
        state: entry.state,
        bytesDone: Number(entry.bytes_done),
        bytesTotal: Number(entry.bytes_total),
        updatedAt: new Date(entry.updated_at).toISOString(),
      })),
    };
  }

  /** Forgets a decommissioned node (an agent that reports again registers it anew). */
  async remove(actor: Actor, rawName: string): Promise<void> {
    const name = assertName('node', rawName, 'node');
    await this.dataSource.transaction(async (manager) => {
      const [, deleted] = (await manager.query(`DELETE FROM nodes WHERE name = $1`, [name])) as [unknown, number];
      if (!deleted) throw new WharfError('node_not_found', `No node "${name}"`);
      await this.audit.record(manager, actor, { action: 'node.delete', target: `node:${name}` });
    });
  }

  /** Ready nodes holding the version ready. */
  async locations(project: ProjectContext, modelName: string, rawVersion: string): Promise<LocationListDto> {
    const model = await this.models.find(project, modelName);
    const number = parseVersionNumber(rawVersion);
    const versions: { id: string }[] = await this.dataSource.query(`SELECT id FROM model_versions WHERE model_id = $1 AND number = $2`, [model.id, number]);
    if (!versions[0]) throw new WharfError('version_not_found', `No version ${number} of "${project.name}/${model.name}"`);
    const rows: { node: string; labels: Record<string, string>; bytes: string; last_heartbeat_at: Date }[] = await this.dataSource.query(
      `SELECT n.name AS node, n.labels, e.bytes_total AS bytes, n.last_heartbeat_at
         FROM node_cache_entries e JOIN nodes n ON n.name = e.node_name
        WHERE e.version_id = $1 AND e.state = 'ready' AND n.last_heartbeat_at > now() - make_interval(secs => $2)
        ORDER BY n.name`,
      [versions[0].id, this.config.NODE_READY_TIMEOUT_SECONDS],
    );
    return {
      project: project.name,
      model: model.name,
      version: number,
      items: rows.map((row) => ({ node: row.node, labels: row.labels, bytes: Number(row.bytes), lastHeartbeatAt: new Date(row.last_heartbeat_at).toISOString() })),
    };
  }

  /** Splits demands into those naming ready (or archived) versions and the rest, with a reason. */
  private async checkDemands(demands: DemandDto[]): Promise<{ demands: Demand[]; rejected: RejectedDemandDto[] }> {
    if (!demands.length) return { demands: [], rejected: [] };
    const rows: { i: number; model_id: string | null; number: number | null; state: string | null; manifest_digest: string | null }[] =
      await this.dataSource.query(
        `SELECT d.i, m.id AS model_id, v.number, v.state, v.manifest_digest
           FROM jsonb_to_recordset($1::jsonb) AS d(i int, project text, model text, version int)
           LEFT JOIN projects p ON p.name = d.project
           LEFT JOIN models m ON m.project_id = p.id AND m.name = d.model
           LEFT JOIN model_versions v ON v.model_id = m.id AND v.number = d.version
          ORDER BY d.i`,
        [JSON.stringify(demands.map((demand, i) => ({ i, project: demand.project, model: demand.model, version: demand.version })))],
      );
    const result: { demands: Demand[]; rejected: RejectedDemandDto[] } = { demands: [], rejected: [] };
    for (const row of rows) {
      const demand = demands[row.i];
      const ref = { project: demand.project, model: demand.model, version: demand.version };
      if (!row.model_id) result.rejected.push({ ...ref, code: 'model_not_found', detail: `No model "${demand.project}/${demand.model}"` });
      else if (row.number === null) result.rejected.push({ ...ref, code: 'version_not_found', detail: `No version ${versionKey(demand)}` });
      else if (row.state !== 'ready' && row.state !== 'archived') {
        result.rejected.push({ ...ref, code: 'version_state_conflict', detail: `${versionKey(demand)} is ${row.state}` });
      } else result.demands.push({ target: { ...ref, manifestDigest: row.manifest_digest! }, reason: demand.reason });
    }
    return result;
  }

  private async readyNodes(keys: string[]): Promise<NodeView[]> {
    const rows: { name: string; labels: Record<string, string> }[] = await this.dataSource.query(
      `SELECT name, labels FROM nodes WHERE last_heartbeat_at > now() - make_interval(secs => $1)`,
      [this.config.NODE_READY_TIMEOUT_SECONDS],
    );
    const entries: { node_name: string; key: string; state: EntryState }[] = await this.dataSource.query(
      `SELECT e.node_name, p.name || '/' || m.name || '@' || v.number AS key, e.state
         FROM node_cache_entries e JOIN model_versions v ON v.id = e.version_id
         JOIN models m ON m.id = v.model_id JOIN projects p ON p.id = m.project_id
        WHERE p.name || '/' || m.name || '@' || v.number = ANY($1)`,
      [keys],
    );
    const holds = new Map<string, Map<string, EntryState>>();
    for (const entry of entries) {
      if (!holds.has(entry.node_name)) holds.set(entry.node_name, new Map());
      holds.get(entry.node_name)!.set(entry.key, entry.state);
    }
    return rows.map((row) => ({ name: row.name, labels: row.labels, holds: holds.get(row.name) ?? new Map() }));
  }

  private dto(row: NodeRow): NodeDto {
    return {
      name: row.name,
      ready: row.ready,
      labels: row.labels,
      capacityBytes: Number(row.capacity_bytes),
      budgetBytes: Number(row.budget_bytes),
      usedBytes: Number(row.used_bytes),
      agentVersion: row.agent_version,
      reportedBy: row.reported_by,
      firstSeenAt: new Date(row.first_seen_at).toISOString(),
      lastHeartbeatAt: new Date(row.last_heartbeat_at).toISOString(),
      demands: row.demands,
    };
  }
}
