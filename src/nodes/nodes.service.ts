import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { decodeCursor, encodeCursor } from '../common/pagination/cursor';
import { parseLabelSelector } from '../common/validation/labels';
import { assertName } from '../common/validation/names';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { ModelsService } from '../models/models.service';
import { parseVersionNumber } from '../versions/versions.service';
import { CacheEntriesRepository } from './cache-entries.repository';
import { DEFAULT_NODE_PAGE, ListNodesQuery, LocationListDto, NodeDto, NodeListDto, NodePageQuery } from './dto/node.dto';
import { NodeRow, NodesRepository } from './nodes.repository';
import { PlacementService } from './placement.service';

// Node names are unique and ordered, so a cursor is the last name of the page.
const CURSOR_SORT = 'name';

function page(query: NodePageQuery) {
  return {
    selector: parseLabelSelector(query.label),
    after: query.cursor ? decodeCursor(query.cursor, CURSOR_SORT).id : undefined,
    limit: query.limit ?? DEFAULT_NODE_PAGE,
  };
}

function nextCursor(names: string[], limit: number): string | null {
  return names.length > limit ? encodeCursor({ v: names[limit - 1], id: names[limit - 1], s: CURSOR_SORT }) : null;
}

/** Nodes as their agents report them: lists, one node, forgetting one, locations of a version. */
@Injectable()
export class NodesService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(NodesRepository) private readonly nodes: NodesRepository,
    @Inject(CacheEntriesRepository) private readonly entries: CacheEntriesRepository,
    @Inject(PlacementService) private readonly placement: PlacementService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(ModelsService) private readonly models: ModelsService,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  /** A page of nodes by name; one row more than asked tells whether another page follows. */
  async list(query: ListNodesQuery): Promise<NodeListDto> {
    const filter = page(query);
    const ready = query.ready === undefined ? undefined : query.ready === 'true';
    const rows = await this.nodes.page({ ...filter, ready, limit: filter.limit + 1 }, this.config.NODE_READY_TIMEOUT_SECONDS);
    return { items: rows.slice(0, filter.limit).map((row) => this.dto(row)), nextCursor: nextCursor(rows.map((row) => row.name), filter.limit) };
  }

  async get(rawName: string): Promise<NodeDto> {
    const name = assertName('node', rawName, 'node');
    const row = await this.nodes.find(name, this.config.NODE_READY_TIMEOUT_SECONDS);
    if (!row) throw new WharfError('node_not_found', `No node "${name}"`);
    const entries = await this.entries.entriesOf(name);
    return {
      ...this.dto(row),
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
      await this.placement.nodeRemoved(manager, name);
      if (!(await this.nodes.delete(manager, name))) throw new WharfError('node_not_found', `No node "${name}"`);
      await this.audit.record(manager, actor, { action: 'node.delete', target: `node:${name}` });
    });
  }

  /** A page of the ready nodes holding the version ready. */
  async locations(project: ProjectContext, modelName: string, rawVersion: string, query: NodePageQuery): Promise<LocationListDto> {
    const filter = page(query);
    const model = await this.models.find(project, modelName);
    const number = parseVersionNumber(rawVersion);
    const versionId = await this.entries.versionId(model.id, number);
    if (!versionId) throw new WharfError('version_not_found', `No version ${number} of "${project.name}/${model.name}"`);
    const rows = await this.entries.locations(versionId, { ...filter, limit: filter.limit + 1 }, this.config.NODE_READY_TIMEOUT_SECONDS);
    return {
      project: project.name,
      model: model.name,
      version: number,
      items: rows
        .slice(0, filter.limit)
        .map((row) => ({ node: row.node, labels: row.labels, bytes: Number(row.bytes), lastHeartbeatAt: new Date(row.last_heartbeat_at).toISOString() })),
      nextCursor: nextCursor(rows.map((row) => row.node), filter.limit),
    };
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
