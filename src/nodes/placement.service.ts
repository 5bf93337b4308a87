import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { WarmupAssignmentsRepository } from '../warmups/warmup-assignments.repository';
import type { WarmupTarget } from '../warmups/warmup-target';
import { Queryable, WarmupsRepository } from '../warmups/warmups.repository';
import { WarmupsService } from '../warmups/warmups.service';
import { NodeView, placeWarmup, versionKey } from './assignments';
import { NodesRepository } from './nodes.repository';

/** How often a replica looks for nodes that went silent (one probe of a partial index). */
const SWEEP_EVERY_MS = 1000;
/** Stale warm-ups placed per pass; the rest wait for the next heartbeat. */
const PLACE_BATCH = 20;

/**
 * Keeps each capped warm-up's nodes (warmup_assignments) in step with the fleet. Nothing is
 * recomputed per heartbeat: events mark warm-ups stale (created, a placed node went silent,
 * left or stopped matching, a vacancy and a node became eligible, a matching node now holds
 * the version ready), and the next heartbeat on any replica places the stale ones, each under
 * its row lock (SKIP LOCKED), so replicas share the work and never place one warm-up twice.
 */
@Injectable()
export class PlacementService {
  private lastSweepAt = 0;
  private placing: Promise<void> | null = null;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(NodesRepository) private readonly nodes: NodesRepository,
    @Inject(WarmupsRepository) private readonly warmups: WarmupsRepository,
    @Inject(WarmupAssignmentsRepository) private readonly placements: WarmupAssignmentsRepository,
    @Inject(WarmupsService) private readonly warmupTargets: WarmupsService,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  /** Frees the places of nodes that stopped reporting; at most once a second per replica. */
  async sweepIfDue(now = Date.now()): Promise<void> {
    if (now - this.lastSweepAt < SWEEP_EVERY_MS) return;
    this.lastSweepAt = now;
    await this.dataSource.transaction(async (manager) => {
      const silent = await this.nodes.sweepSilent(manager, this.config.NODE_READY_TIMEOUT_SECONDS);
      await this.warmups.markStale(manager, await this.placements.releaseNodes(manager, silent));
    });
  }

  /** A node registered, came back, or changed labels. */
  async nodeBecameEligible(name: string, labels: Record<string, string>, labelsChanged: boolean): Promise<void> {
    if (labelsChanged) {
      await this.dataSource.transaction(async (manager) => {
        await this.warmups.markStale(manager, await this.placements.releaseUnmatched(manager, name, labels));
      });
    }
    await this.warmups.markVacanciesStale(this.dataSource, labels);
  }

  /** A node reported versions of these models newly ready. */
  async nodeHolds(name: string, labels: Record<string, string>, modelIds: readonly string[]): Promise<void> {
    await this.warmups.markStaleForHolder(this.dataSource, name, labels, modelIds);
  }

  /** A node is being forgotten (inside the deleting transaction). */
  async nodeRemoved(db: Queryable, name: string): Promise<void> {
    await this.warmups.markStale(db, await this.placements.releaseNodes(db, [name]));
  }

  /**
   * Places the stale warm-ups. One pass at a time per replica: every heartbeat that finds
   * stale warm-ups waits for the pass under way instead of starting its own, so a burst of
   * heartbeats after a change does not turn into a herd of placements skipping each other.
   */
  placeStale(): Promise<void> {
    this.placing ??= (async () => {
      try {
        for (const id of await this.warmups.staleIds(PLACE_BATCH)) await this.place(id);
      } finally {
        this.placing = null;
      }
    })();
    return this.placing;
  }

  private async place(id: string): Promise<void> {
    const row = await this.warmups.findById(id);
    if (!row) return;
    // Resolved before the transaction: the resolver reads through the pool, and embedded
    // Postgres has one connection, which the transaction would hold.
    const warmup = await this.warmupTargets.target(row);
    await this.dataSource.transaction(async (manager) => {
      if (!(await this.warmups.lockStale(manager, id))) return;
      const eligible = await this.eligible(manager, warmup, row.model_id);
      const placement = placeWarmup(warmup, await this.placements.nodesOf(manager, id), eligible);
      await this.placements.replace(manager, id, placement.removed, placement.added);
      await this.warmups.markPlaced(manager, id);
    });
  }

  private async eligible(db: Queryable, warmup: WarmupTarget, modelId: string): Promise<NodeView[]> {
    const version = warmup.target ? { modelId, number: warmup.target.version } : null;
    const key = warmup.target ? versionKey(warmup.target) : '';
    const rows = await this.nodes.eligible(db, warmup.matchLabels, this.config.NODE_READY_TIMEOUT_SECONDS, version);
    return rows.map((row) => ({ name: row.name, labels: row.labels, holds: new Map(row.state ? [[key, row.state]] : []) }));
  }
}
