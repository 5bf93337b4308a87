import { Inject, Injectable } from '@nestjs/common';
import { returning } from '../database/returning';
import { DataSource } from 'typeorm';
import type { LabelSelector } from '../common/validation/labels';
import type { Queryable } from '../warmups/warmups.repository';
import type { DemandDto } from './dto/node.dto';
import type { EntryState } from './assignments';

export interface NodeRow {
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

/** The node row as it was before a heartbeat changed it. */
export interface PreviousNode {
  labels: Record<string, string>;
  budget_bytes: string | number;
  assignable: boolean;
  inventory_sequence: string | number | null;
}

export interface NodeReport {
  name: string;
  labels: Record<string, string>;
  capacityBytes: number;
  budgetBytes: number;
  usedBytes: number;
  agentVersion: string;
  demands: DemandDto[];
  reportedBy: string;
  /** The heartbeat's sequence (null for agents that send none). */
  sequence: number | null;
  /** For a delta, the sequence it starts from: stored only when that is the one the row holds. */
  since: number | null;
}

export interface NodeFilter {
  selector: LabelSelector;
  ready?: boolean;
  after?: string;
  limit: number;
}

const SELECT_NODES = `
  SELECT name, labels, capacity_bytes, budget_bytes, used_bytes, agent_version, demands, reported_by, first_seen_at,
         last_heartbeat_at, last_heartbeat_at > now() - make_interval(secs => $1) AS ready
    FROM nodes`;

/** The SQL of the `nodes` table. */
@Injectable()
export class NodesRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /**
   * Writes a heartbeat's node row (an upsert under the row's lock) and answers the row as it
   * was, in one statement. The node becomes assignable again: placement takes it back. The
   * stored inventory sequence moves to this heartbeat's for a whole inventory, and for a delta
   * only when the delta starts from the stored one (otherwise the caller asks for a resync).
   */
  async record(db: Queryable, report: NodeReport): Promise<PreviousNode | null> {
    const rows: { previous: PreviousNode | null }[] = await db.query(
      `WITH previous AS (
         SELECT labels, budget_bytes, assignable, inventory_sequence FROM nodes WHERE name = $1 FOR NO KEY UPDATE
       ), upserted AS (
         INSERT INTO nodes (name, labels, capacity_bytes, budget_bytes, used_bytes, agent_version, demands, reported_by, assignable, inventory_sequence)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, CASE WHEN $10::bigint IS NULL THEN $9::bigint END)
         ON CONFLICT (name) DO UPDATE SET labels = EXCLUDED.labels, capacity_bytes = EXCLUDED.capacity_bytes,
           budget_bytes = EXCLUDED.budget_bytes, used_bytes = EXCLUDED.used_bytes, agent_version = EXCLUDED.agent_version,
           demands = EXCLUDED.demands, reported_by = EXCLUDED.reported_by, last_heartbeat_at = now(), assignable = true,
           inventory_sequence = CASE WHEN $10::bigint IS NULL OR nodes.inventory_sequence = $10::bigint THEN $9::bigint
                                     ELSE nodes.inventory_sequence END
         RETURNING 1
       )
       SELECT (SELECT row_to_json(previous) FROM previous) AS previous, (SELECT count(*) FROM upserted) AS written`,
      [
        report.name,
        report.labels,
        report.capacityBytes,
        report.budgetBytes,
        report.usedBytes,
        report.agentVersion,
        JSON.stringify(report.demands),
        report.reportedBy,
        report.sequence,
        report.since,
      ],
    );
    return rows[0].previous;
  }

  /**
   * Nodes that stopped reporting and were still assignable: marks them not assignable and
   * returns them, so each silence is acted on once (by whichever replica sweeps first).
   */
  async sweepSilent(db: Queryable, readySeconds: number): Promise<string[]> {
    const rows = await returning<{ name: string }>(
      db,
      `UPDATE nodes SET assignable = false
        WHERE assignable AND last_heartbeat_at <= now() - make_interval(secs => $1)
        RETURNING name`,
      [readySeconds],
    );
    return rows.map((row) => row.name);
  }

  /** Ready, assignable nodes matching a selector, each with its state of one version (if any). */
  eligible(db: Queryable, matchLabels: Record<string, string>, readySeconds: number, version: { modelId: string; number: number } | null): Promise<{ name: string; labels: Record<string, string>; state: EntryState | null }[]> {
    return db.query(
      `SELECT n.name, n.labels, e.state
         FROM nodes n
         LEFT JOIN model_versions v ON v.model_id = $3 AND v.number = $4
         LEFT JOIN node_cache_entries e ON e.node_name = n.name AND e.version_id = v.id
        WHERE n.assignable AND n.last_heartbeat_at > now() - make_interval(secs => $2) AND n.labels @> $1::jsonb`,
      [JSON.stringify(matchLabels), readySeconds, version?.modelId ?? null, version?.number ?? null],
    );
  }

  /** A page of nodes by name, filtered by labels (GIN index) and readiness. */
  page(filter: NodeFilter, readySeconds: number): Promise<NodeRow[]> {
    return this.dataSource.query(
      `${SELECT_NODES}
        WHERE ($2::text IS NULL OR name > $2) AND labels @> $3::jsonb AND labels ?& $4::text[]
          AND ($5::boolean IS NULL OR (last_heartbeat_at > now() - make_interval(secs => $1)) = $5)
        ORDER BY name LIMIT $6`,
      [readySeconds, filter.after ?? null, JSON.stringify(filter.selector.equals), filter.selector.exists, filter.ready ?? null, filter.limit],
    );
  }

  async find(name: string, readySeconds: number): Promise<NodeRow | undefined> {
    const rows: NodeRow[] = await this.dataSource.query(`${SELECT_NODES} WHERE name = $2`, [readySeconds, name]);
    return rows[0];
  }

  async delete(db: Queryable, name: string): Promise<boolean> {
    const [, deleted] = (await db.query(`DELETE FROM nodes WHERE name = $1`, [name])) as [unknown, number];
    return deleted > 0;
  }
}
