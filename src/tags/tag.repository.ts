import { Queryable } from '../database/queryable';
import { returning } from '../database/returning';
import type { TagAction } from './tag.entity';

/** `latest` follows the newest ready version by itself, unless pinned. */
export const LATEST = 'latest';

/** A locked tag row; `version_number` is read after the lock (see TagWriter.lock). */
export interface TagRow {
  id: string;
  name: string;
  version_id: string;
  version_number: number;
  pinned: boolean;
}

export interface TagHistoryEntryRow {
  action: TagAction;
  from: number | null;
  to: number | null;
  actor: string;
  reason: string;
}

/** The SQL of the `tags` and `tag_history` tables. */
export const tagRepository = {
  /**
   * Where a tag points, share-locked, for a version lookup. Locked on its own, never over a join
   * with its version: such a lock, after waiting for a concurrent move, re-checks the join
   * against the version read before the wait and answers no row, a false "tag not found".
   */
  async target(db: Queryable, modelId: string, name: string, lock: boolean): Promise<{ versionId: string; pinned: boolean } | null> {
    const rows = (await db.query(`SELECT version_id, pinned FROM tags WHERE model_id = $1 AND name = $2 ${lock ? 'FOR SHARE' : ''}`, [modelId, name])) as {
      version_id: string;
      pinned: boolean;
    }[];
    return rows[0] ? { versionId: rows[0].version_id, pinned: rows[0].pinned } : null;
  },

  async lockForUpdate(db: Queryable, modelId: string, name: string): Promise<Omit<TagRow, 'version_number'> | null> {
    const rows = (await db.query(`SELECT id, name, version_id, pinned FROM tags WHERE model_id = $1 AND name = $2 FOR UPDATE`, [modelId, name])) as Omit<
      TagRow,
      'version_number'
    >[];
    return rows[0] ?? null;
  },

  /** Share-locks a tag row if it exists (lock order: tag rows before the versions they point at). */
  async holdForShare(db: Queryable, modelId: string, name: string): Promise<void> {
    await db.query(`SELECT 1 FROM tags WHERE model_id = $1 AND name = $2 FOR SHARE`, [modelId, name]);
  },

  /** Locks `latest` if it exists. */
  async lockLatest(db: Queryable, modelId: string): Promise<void> {
    await db.query(`SELECT 1 FROM tags WHERE model_id = $1 AND name = $2 FOR UPDATE`, [modelId, LATEST]);
  },

  /** Inserts the tag unless it exists (concurrent creators queue on the unique key); its id, or null. */
  async insertIfAbsent(db: Queryable, modelId: string, name: string, versionId: string, actor: string): Promise<string | null> {
    const inserted = (await db.query(
      `INSERT INTO tags (model_id, name, version_id, updated_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (model_id, name) DO NOTHING RETURNING id`,
      [modelId, name, versionId, actor],
    )) as { id: string }[];
    return inserted[0]?.id ?? null;
  },

  async update(db: Queryable, id: string, versionId: string, pinned: boolean, actor: string): Promise<void> {
    await db.query(
      `UPDATE tags SET version_id = $2, pinned = $3,
              pinned_at = CASE WHEN $3 THEN coalesce(pinned_at, now()) END,
              pinned_by = CASE WHEN $3 THEN coalesce(pinned_by, $4) END,
              updated_by = $4, updated_at = now()
        WHERE id = $1`,
      [id, versionId, pinned, actor],
    );
  },

  async delete(db: Queryable, id: string): Promise<void> {
    await db.query(`DELETE FROM tags WHERE id = $1`, [id]);
  },

  /** Appends to the tag's history, numbered per tag; answers the entry's number. */
  async appendHistory(db: Queryable, modelId: string, name: string, entry: TagHistoryEntryRow): Promise<number> {
    const [{ seq }] = await returning<{ seq: number }>(
      db,
      `INSERT INTO tag_history (model_id, tag, seq, action, from_version, to_version, actor, reason)
       SELECT $1::uuid, $2::text, coalesce(max(seq), 0) + 1, $3::text, $4::integer, $5::integer, $6::text, $7::text FROM tag_history WHERE model_id = $1 AND tag = $2
       RETURNING seq`,
      [modelId, name, entry.action, entry.from, entry.to, entry.actor, entry.reason],
    );
    return seq;
  },

  /** Tags holding a version, but for an unpinned `latest`: that one moves on by itself. */
  async namesHolding(db: Queryable, versionId: string): Promise<string[]> {
    const rows = (await db.query(`SELECT name FROM tags WHERE version_id = $1 AND NOT (name = $2 AND NOT pinned) ORDER BY name`, [versionId, LATEST])) as {
      name: string;
    }[];
    return rows.map((row) => row.name);
  },
};
