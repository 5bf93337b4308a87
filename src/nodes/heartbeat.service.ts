import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { assertName } from '../common/validation/names';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { WarmupsRepository } from '../warmups/warmups.repository';
import { WarmupsService } from '../warmups/warmups.service';
import { assignmentsFor, Demand } from './assignments';
import { CacheEntriesRepository } from './cache-entries.repository';
import { DemandsService } from './demands.service';
import { HeartbeatDto, HeartbeatReplyDto, MAX_ENTRIES } from './dto/node.dto';
import { InventoryReport, readInventory } from './inventory';
import { NodesRepository, PreviousNode } from './nodes.repository';
import { PlacementService } from './placement.service';

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
}

interface Recorded {
  previous: PreviousNode | null;
  /** Whether the inventory was applied (false: a delta from another base, resync asked). */
  applied: boolean;
  newlyReadyModels: string[];
}

/**
 * A node agent's heartbeat. The cost is the node's own: one upsert of its row, the entries
 * that changed (a delta, or the difference a whole inventory makes), and its own assignments
 * read by id. Capped warm-ups are placed elsewhere (PlacementService), only when they change.
 */
@Injectable()
export class HeartbeatService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(NodesRepository) private readonly nodes: NodesRepository,
    @Inject(CacheEntriesRepository) private readonly entries: CacheEntriesRepository,
    @Inject(WarmupsRepository) private readonly warmupRows: WarmupsRepository,
    @Inject(WarmupsService) private readonly warmups: WarmupsService,
    @Inject(PlacementService) private readonly placement: PlacementService,
    @Inject(DemandsService) private readonly demands: DemandsService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  async heartbeat(actor: Actor, rawName: string, dto: HeartbeatDto): Promise<HeartbeatReplyDto> {
    const name = assertName('node', rawName, 'node');
    const inventory = readInventory(dto);
    const recorded = (await this.recordDelta(actor, name, dto, inventory)) ?? (await this.dataSource.transaction((manager) => this.record(manager, actor, name, dto, inventory)));
    // Everything below runs after the commit, through the pool: embedded Postgres has one
    // connection, which the transaction holds until it ends.
    const { previous } = recorded;
    const labelsChanged = previous !== null && !sameLabels(previous.labels, dto.labels);
    if (!previous || !previous.assignable || labelsChanged) await this.placement.nodeBecameEligible(name, dto.labels, labelsChanged);
    if (recorded.newlyReadyModels.length) await this.placement.nodeHolds(name, dto.labels, recorded.newlyReadyModels);
    await this.placement.sweepIfDue();
    const { demands, rejected } = await this.demands.check(dto.demands);
    const assignments = (await this.assignments(name, dto.labels, demands)).map((assignment) => ({
      ...assignment,
      manifestUrl: `/api/v1/projects/${assignment.project}/models/${assignment.model}/versions/${assignment.version}/files`,
    }));
    const stored = previous?.inventory_sequence ?? null;
    return {
      node: name,
      assignments,
      rejected,
      readyTimeoutSeconds: this.config.NODE_READY_TIMEOUT_SECONDS,
      sequence: recorded.applied ? inventory.sequence : stored === null ? null : Number(stored),
      resync: !recorded.applied,
    };
  }

  /** The common case, one statement: see CacheEntriesRepository.recordDelta. */
  private async recordDelta(actor: Actor, name: string, dto: HeartbeatDto, inventory: InventoryReport): Promise<Recorded | null> {
    if (inventory.kind !== 'delta') return null;
    const written = await this.entries.recordDelta(this.dataSource, {
      ...this.report(actor, name, dto),
      sequence: inventory.sequence,
      since: inventory.since,
      upserts: dto.delta!.upserts,
      removals: dto.delta!.removals,
      maxEntries: MAX_ENTRIES,
    });
    if (!written) return null;
    const previous: PreviousNode = { labels: dto.labels, budget_bytes: dto.budgetBytes, assignable: true, inventory_sequence: inventory.since };
    return { previous, applied: true, newlyReadyModels: written.newlyReadyModels };
  }

  private report(actor: Actor, name: string, dto: HeartbeatDto) {
    return {
      name,
      labels: dto.labels,
      capacityBytes: dto.capacityBytes,
      budgetBytes: dto.budgetBytes,
      usedBytes: dto.usedBytes,
      agentVersion: dto.agentVersion ?? '',
      demands: dto.demands.map(({ project, model, version, reason }) => ({ project, model, version, reason })),
      reportedBy: actor.principalName,
    };
  }

  private async record(manager: EntityManager, actor: Actor, name: string, dto: HeartbeatDto, inventory: InventoryReport): Promise<Recorded> {
    const previous = await this.nodes.record(manager, {
      ...this.report(actor, name, dto),
      sequence: inventory.sequence,
      since: inventory.kind === 'delta' ? inventory.since : null,
    });
    let applied = true;
    let newlyReadyModels: string[] = [];
    if (inventory.kind === 'full') newlyReadyModels = (await this.entries.replaceAll(manager, name, dto.entries!)).newlyReadyModels;
    else if (previous?.inventory_sequence == null || Number(previous.inventory_sequence) !== inventory.since) applied = false;
    else {
      const written = await this.entries.applyDelta(manager, name, dto.delta!.upserts, dto.delta!.removals);
      newlyReadyModels = written.newlyReadyModels;
      // Only new entries can take the node over the limit; counting is for those heartbeats only.
      if (written.inserted > 0 && (await this.entries.count(manager, name)) > MAX_ENTRIES) {
        throw new WharfError('validation_failed', `delta.upserts: the node would hold more than ${MAX_ENTRIES} entries`, {
          errors: [{ field: 'delta.upserts', message: `more than ${MAX_ENTRIES} entries in all` }],
        });
      }
    }
    if (!previous || !sameLabels(previous.labels, dto.labels) || Number(previous.budget_bytes) !== dto.budgetBytes) {
      await this.audit.record(manager, actor, {
        action: previous ? 'node.update' : 'node.register',
        target: `node:${name}`,
        details: { labels: dto.labels, budgetBytes: dto.budgetBytes, previous: previous ? { labels: previous.labels, budgetBytes: Number(previous.budget_bytes) } : null },
      });
    }
    return { previous, applied, newlyReadyModels };
  }

  /** The node's assignments: read by its name and labels, placing stale warm-ups first. */
  private async assignments(name: string, labels: Record<string, string>, demands: Demand[]) {
    let found = await this.warmupRows.forNode(labels, name);
    if (found.staleExists) {
      await this.placement.placeStale();
      found = await this.warmupRows.forNode(labels, name);
    }
    const targets = await Promise.all(found.rows.map((row) => this.warmups.target(row)));
    const placed = new Set(found.rows.filter((row) => row.max_nodes !== null).map((row) => row.id));
    return assignmentsFor({ name, labels, holds: new Map() }, targets, placed, demands);
  }
}
