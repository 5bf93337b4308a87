import { Injectable } from '@nestjs/common';
import { returning } from '../database/returning';
import type { Queryable } from './warmups.repository';

/** The SQL of `warmup_assignments`: the nodes each capped warm-up is placed on. */
@Injectable()
export class WarmupAssignmentsRepository {
  async nodesOf(db: Queryable, warmupId: string): Promise<string[]> {
    const rows: { node_name: string }[] = await db.query(
      `SELECT node_name FROM warmup_assignments WHERE warmup_id = $1 ORDER BY assigned_at, node_name`,
      [warmupId],
    );
    return rows.map((row) => row.node_name);
  }

  async replace(db: Queryable, warmupId: string, removed: readonly string[], added: readonly string[]): Promise<void> {
    if (removed.length) await db.query(`DELETE FROM warmup_assignments WHERE warmup_id = $1 AND node_name = ANY($2::text[])`, [warmupId, removed]);
    if (added.length) {
      // A node deleted meanwhile is skipped by the join instead of failing the foreign key.
      await db.query(
        `INSERT INTO warmup_assignments (warmup_id, node_name)
         SELECT $1, n.name FROM nodes n WHERE n.name = ANY($2::text[])
         ON CONFLICT DO NOTHING`,
        [warmupId, added],
      );
    }
  }

  /** Releases the nodes' places; returns the warm-ups that lost a node. */
  async releaseNodes(db: Queryable, nodes: readonly string[]): Promise<string[]> {
    if (!nodes.length) return [];
    const rows = await returning<{ warmup_id: string }>(
      db,
      `DELETE FROM warmup_assignments WHERE node_name = ANY($1::text[]) RETURNING warmup_id`,
      [nodes],
    );
    return [...new Set(rows.map((row) => row.warmup_id))];
  }

  /** Releases the node's places in warm-ups whose selector its new labels no longer match. */
  async releaseUnmatched(db: Queryable, node: string, labels: Record<string, string>): Promise<string[]> {
    const rows = await returning<{ warmup_id: string }>(
      db,
      `DELETE FROM warmup_assignments a USING warmups w
        WHERE a.node_name = $1 AND w.id = a.warmup_id AND NOT ($2::jsonb @> w.match_labels)
        RETURNING a.warmup_id`,
      [node, JSON.stringify(labels)],
    );
    return rows.map((row) => row.warmup_id);
  }
}
