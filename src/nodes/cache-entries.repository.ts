import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { LabelSelector } from '../common/validation/labels';
import type { Queryable } from '../warmups/warmups.repository';
import type { EntryState } from './assignments';
import type { CacheEntryDto, VersionRefDto } from './dto/node.dto';

export interface EntryRow {
  project: string;
  model: string;
  version: number;
  state: EntryState;
  bytes_done: string;
  bytes_total: string;
  updated_at: Date;
}

export interface LocationRow {
  node: string;
  labels: Record<string, string>;
  bytes: string;
  last_heartbeat_at: Date;
}

// Names resolve to version ids through the unique indexes on projects (name), models
// (project_id, name) and model_versions (model_id, number). Versions the registry no longer
// has do not join and are dropped.
const INCOMING = `
  SELECT v.id AS version_id, e.state, e."bytesDone" AS bytes_done, e."bytesTotal" AS bytes_total
    FROM jsonb_to_recordset($2::jsonb) AS e(project text, model text, version int, state text, "bytesDone" bigint, "bytesTotal" bigint)
    JOIN projects p ON p.name = e.project
    JOIN models m ON m.project_id = p.id AND m.name = e.model
    JOIN model_versions v ON v.model_id = m.id AND v.number = e.version`;

// An entry whose state and bytes did not change is not written again (no dead row, no WAL).
const UPSERT = `
  INSERT INTO node_cache_entries (node_name, version_id, state, bytes_done, bytes_total)
  SELECT $1, version_id, state, bytes_done, bytes_total FROM incoming
  ON CONFLICT (node_name, version_id) DO UPDATE
     SET state = EXCLUDED.state, bytes_done = EXCLUDED.bytes_done, bytes_total = EXCLUDED.bytes_total, updated_at = now()
   WHERE (node_cache_entries.state, node_cache_entries.bytes_done, node_cache_entries.bytes_total)
         IS DISTINCT FROM (EXCLUDED.state, EXCLUDED.bytes_done, EXCLUDED.bytes_total)`;

// Entries as they were before this statement (same snapshot), to tell "became ready" apart.
const BEFORE = `SELECT version_id, state FROM node_cache_entries WHERE node_name = $1 AND version_id IN (SELECT version_id FROM incoming)`;
const READY_MODELS = `
  SELECT DISTINCT v.model_id, (SELECT count(*)::int FROM written WHERE inserted) AS inserted
    FROM (SELECT 1) one
    LEFT JOIN written ON written.state = 'ready'
    LEFT JOIN before b ON b.version_id = written.version_id
    LEFT JOIN model_versions v ON v.id = written.version_id AND b.state IS DISTINCT FROM 'ready'`;

export interface DeltaHeartbeat {
  name: string;
  labels: Record<string, string>;
  capacityBytes: number;
  budgetBytes: number;
  usedBytes: number;
  agentVersion: string;
  demands: object[];
  reportedBy: string;
  sequence: number;
  since: number;
  upserts: readonly CacheEntryDto[];
  removals: readonly VersionRefDto[];
  maxEntries: number;
}

/** What writing entries changed: models of entries that became ready, entries that are new. */
export interface EntriesWritten {
  newlyReadyModels: string[];
  inserted: number;
}

function written(rows: { model_id: string | null; inserted: number }[]): EntriesWritten {
  return { newlyReadyModels: rows.flatMap((row) => (row.model_id ? [row.model_id] : [])), inserted: rows[0]?.inserted ?? 0 };
}

const entryJson = (entries: readonly CacheEntryDto[]) =>
  JSON.stringify(entries.map(({ project, model, version, state, bytesDone, bytesTotal }) => ({ project, model, version, state, bytesDone, bytesTotal })));

/** The SQL of `node_cache_entries`: what each node reports it holds. */
@Injectable()
export class CacheEntriesRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /**
   * Makes the node's entries exactly these: changed ones upserted, missing ones deleted.
   * Answers the models of entries that became ready.
   */
  async replaceAll(db: Queryable, node: string, entries: readonly CacheEntryDto[]): Promise<EntriesWritten> {
    const rows: { model_id: string | null; inserted: number }[] = await db.query(
      `WITH incoming AS (${INCOMING}),
            before AS (${BEFORE}),
            written AS (${UPSERT} RETURNING version_id, state, xmax = 0 AS inserted),
            removed AS (DELETE FROM node_cache_entries
                         WHERE node_name = $1 AND version_id NOT IN (SELECT version_id FROM incoming) RETURNING 1)
       ${READY_MODELS}`,
      [node, entryJson(entries)],
    );
    return written(rows);
  }

  /** Applies a delta: upserts what changed, deletes what was removed; answers as replaceAll. */
  async applyDelta(db: Queryable, node: string, upserts: readonly CacheEntryDto[], removals: readonly VersionRefDto[]): Promise<EntriesWritten> {
    const rows: { model_id: string | null; inserted: number }[] = upserts.length
      ? await db.query(`WITH incoming AS (${INCOMING}), before AS (${BEFORE}), written AS (${UPSERT} RETURNING version_id, state, xmax = 0 AS inserted) ${READY_MODELS}`, [
          node,
          entryJson(upserts),
        ])
      : [];
    if (removals.length) {
      await db.query(
        `DELETE FROM node_cache_entries e
          USING jsonb_to_recordset($2::jsonb) AS r(project text, model text, version int), projects p, models m, model_versions v
          WHERE p.name = r.project AND m.project_id = p.id AND m.name = r.model AND v.model_id = m.id AND v.number = r.version
            AND e.node_name = $1 AND e.version_id = v.id`,
        [node, JSON.stringify(removals.map(({ project, model, version }) => ({ project, model, version })))],
      );
    }
    return written(rows);
  }

  /**
   * The common heartbeat in one call of node_heartbeat_delta (migration FleetScale), without
   * a transaction around it: a delta from a node that is known, assignable, unchanged in
   * labels and budget, on the base it names, and far enough under the entry limit. Its row and
   * its entries are written together (one statement is atomic; the function's plans are cached
   * per connection). Answers null when any condition fails: the caller takes the full path,
   * which registers, audits, checks the limit exactly, or asks for a resync.
   */
  async recordDelta(db: Queryable, node: DeltaHeartbeat): Promise<EntriesWritten | null> {
    const rows: { ready_model: string | null; new_entries: number }[] = await db.query(
      `SELECT ready_model, new_entries FROM node_heartbeat_delta($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        node.name,
        entryJson(node.upserts),
        JSON.stringify(node.removals.map(({ project, model, version }) => ({ project, model, version }))),
        node.labels,
        node.capacityBytes,
        node.budgetBytes,
        node.usedBytes,
        node.agentVersion,
        JSON.stringify(node.demands),
        node.reportedBy,
        node.sequence,
        node.since,
        node.maxEntries,
      ],
    );
    return rows.length ? written(rows.map((row) => ({ model_id: row.ready_model, inserted: row.new_entries }))) : null;
  }

  async count(db: Queryable, node: string): Promise<number> {
    const rows: { n: number }[] = await db.query(`SELECT count(*)::int AS n FROM node_cache_entries WHERE node_name = $1`, [node]);
    return rows[0].n;
  }

  entriesOf(node: string): Promise<EntryRow[]> {
    return this.dataSource.query(
      `SELECT p.name AS project, m.name AS model, v.number AS version, e.state, e.bytes_done, e.bytes_total, e.updated_at
         FROM node_cache_entries e JOIN model_versions v ON v.id = e.version_id
         JOIN models m ON m.id = v.model_id JOIN projects p ON p.id = m.project_id
        WHERE e.node_name = $1 ORDER BY p.name, m.name, v.number`,
      [node],
    );
  }

  async versionId(modelId: string, number: number): Promise<string | undefined> {
    const rows: { id: string }[] = await this.dataSource.query(`SELECT id FROM model_versions WHERE model_id = $1 AND number = $2`, [modelId, number]);
    return rows[0]?.id;
  }

  /** A page of the ready nodes holding a version ready, by node name. */
  locations(versionId: string, filter: { selector: LabelSelector; after?: string; limit: number }, readySeconds: number): Promise<LocationRow[]> {
    return this.dataSource.query(
      `SELECT n.name AS node, n.labels, e.bytes_total AS bytes, n.last_heartbeat_at
         FROM node_cache_entries e JOIN nodes n ON n.name = e.node_name
        WHERE e.version_id = $1 AND e.state = 'ready' AND n.last_heartbeat_at > now() - make_interval(secs => $2)
          AND ($3::text IS NULL OR n.name > $3) AND n.labels @> $4::jsonb AND n.labels ?& $5::text[]
        ORDER BY n.name LIMIT $6`,
      [versionId, readySeconds, filter.after ?? null, JSON.stringify(filter.selector.equals), filter.selector.exists, filter.limit],
    );
  }
}
