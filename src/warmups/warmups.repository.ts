import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** Either the pool or a transaction's manager: both answer raw SQL. */
export type Queryable = Pick<EntityManager, 'query'>;

export interface WarmupRow {
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

const SELECT_WARMUPS = `
  SELECT w.id, w.project_id, p.name AS project, w.model_id, m.name AS model, w.reference, w.match_labels,
         w.max_nodes, w.created_by, w.created_at
    FROM warmups w JOIN projects p ON p.id = w.project_id JOIN models m ON m.id = w.model_id`;

/** The SQL of the `warmups` table. */
@Injectable()
export class WarmupsRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async insert(db: Queryable, row: { projectId: string; modelId: string; reference: string; matchLabels: Record<string, string>; maxNodes: number | null; createdBy: string }): Promise<string> {
    const rows: { id: string }[] = await db.query(
      `INSERT INTO warmups (project_id, model_id, reference, match_labels, max_nodes, created_by, placement_stale)
       VALUES ($1, $2, $3, $4, $5, $6, $5::int IS NOT NULL) RETURNING id`,
      [row.projectId, row.modelId, row.reference, row.matchLabels, row.maxNodes, row.createdBy],
    );
    return rows[0].id;
  }

  async delete(db: Queryable, id: string, projectId: string): Promise<boolean> {
    const [, deleted] = (await db.query(`DELETE FROM warmups WHERE id = $1 AND project_id = $2`, [id, projectId])) as [unknown, number];
    return deleted > 0;
  }

  listInProject(projectId: string): Promise<WarmupRow[]> {
    return this.dataSource.query(`${SELECT_WARMUPS} WHERE w.project_id = $1 ORDER BY w.created_at, w.id`, [projectId]);
  }

  async findById(id: string): Promise<WarmupRow | undefined> {
    const rows: WarmupRow[] = await this.dataSource.query(`${SELECT_WARMUPS} WHERE w.id = $1`, [id]);
    return rows[0];
  }

  async findInProject(id: string, projectId: string): Promise<WarmupRow | undefined> {
    const rows: WarmupRow[] = await this.dataSource.query(`${SELECT_WARMUPS} WHERE w.id = $1 AND w.project_id = $2`, [id, projectId]);
    return rows[0];
  }

  /**
   * The warm-ups that may assign something to a node with these labels: every uncapped one its
   * labels match, and the capped ones that placed it. `staleExists` says whether some capped
   * warm-up waits to be placed (one probe of a partial index), so the common heartbeat makes
   * one query here.
   */
  async forNode(labels: Record<string, string>, node: string): Promise<{ rows: WarmupRow[]; staleExists: boolean }> {
    const rows: (WarmupRow & { stale_exists: boolean })[] = await this.dataSource.query(
      `SELECT x.*, EXISTS (SELECT 1 FROM warmups s WHERE s.placement_stale AND s.max_nodes IS NOT NULL) AS stale_exists
         FROM (${SELECT_WARMUPS}
                WHERE (w.max_nodes IS NULL AND $1::jsonb @> w.match_labels)
                   OR w.id IN (SELECT a.warmup_id FROM warmup_assignments a WHERE a.node_name = $2)) x
        RIGHT JOIN (SELECT 1) one ON true
        ORDER BY x.id`,
      [JSON.stringify(labels), node],
    );
    return { rows: rows.filter((row) => row.id !== null), staleExists: rows[0]?.stale_exists ?? false };
  }

  /** Capped warm-ups waiting to be placed again. */
  async staleIds(limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM warmups WHERE placement_stale AND max_nodes IS NOT NULL ORDER BY id LIMIT $1`,
      [limit],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Locks a stale warm-up for placing it; another replica placing it already makes this skip
   * (SKIP LOCKED), so replicas never place one warm-up twice at once.
   */
  async lockStale(db: Queryable, id: string): Promise<WarmupRow | undefined> {
    const rows: WarmupRow[] = await db.query(
      `${SELECT_WARMUPS} WHERE w.id = $1 AND w.placement_stale AND w.max_nodes IS NOT NULL FOR UPDATE OF w SKIP LOCKED`,
      [id],
    );
    return rows[0];
  }

  async markPlaced(db: Queryable, id: string): Promise<void> {
    await db.query(`UPDATE warmups SET placement_stale = false WHERE id = $1`, [id]);
  }

  async markStale(db: Queryable, ids: readonly string[]): Promise<void> {
    if (ids.length) await db.query(`UPDATE warmups SET placement_stale = true WHERE id = ANY($1::uuid[]) AND NOT placement_stale`, [ids]);
  }

  /**
   * A node now holds versions of these models ready: capped warm-ups of those models that
   * match it but do not use it are placed again, as moving a place there costs no bytes.
   */
  async markStaleForHolder(db: Queryable, node: string, labels: Record<string, string>, modelIds: readonly string[]): Promise<void> {
    if (!modelIds.length) return;
    await db.query(
      `UPDATE warmups w SET placement_stale = true
        WHERE w.max_nodes IS NOT NULL AND NOT w.placement_stale AND w.model_id = ANY($3::uuid[]) AND $2::jsonb @> w.match_labels
          AND NOT EXISTS (SELECT 1 FROM warmup_assignments a WHERE a.warmup_id = w.id AND a.node_name = $1)`,
      [node, JSON.stringify(labels), modelIds],
    );
  }

  /**
   * A node became eligible (new, ready again, or relabelled): the capped warm-ups its labels
   * match that have a vacancy must be placed again; full ones keep their nodes.
   */
  async markVacanciesStale(db: Queryable, labels: Record<string, string>): Promise<void> {
    await db.query(
      `UPDATE warmups w SET placement_stale = true
        WHERE w.max_nodes IS NOT NULL AND NOT w.placement_stale AND $1::jsonb @> w.match_labels
          AND (SELECT count(*) FROM warmup_assignments a WHERE a.warmup_id = w.id) < w.max_nodes`,
      [JSON.stringify(labels)],
    );
  }
}

export interface WarmupProgressRow {
  node: string;
  state: string;
  bytes_done: string;
  bytes_total: string;
}

/**
 * The ready nodes matching a selector that report a version: a read-only view over the node
 * cache tables (owned by nodes/), kept here because it is the warm-up's own progress report.
 */
export function warmupProgress(db: Queryable, modelId: string, version: number, matchLabels: Record<string, string>, readySeconds: number): Promise<WarmupProgressRow[]> {
  return db.query(
    `SELECT n.name AS node, e.state, e.bytes_done, e.bytes_total
       FROM model_versions v
       JOIN node_cache_entries e ON e.version_id = v.id
       JOIN nodes n ON n.name = e.node_name
      WHERE v.model_id = $1 AND v.number = $2 AND n.labels @> $3::jsonb
        AND n.last_heartbeat_at > now() - make_interval(secs => $4)
      ORDER BY n.name`,
    [modelId, version, JSON.stringify(matchLabels), readySeconds],
  );
}
