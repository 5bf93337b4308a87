import { Queryable } from '../database/queryable';

/** A project's storage row with the project's own quota (null: the platform default applies). */
export interface ProjectStorageRow {
  quotaBytes: string | null;
  usedBytes: number;
}

/** The SQL of the `project_storage` table: bytes a project's blobs take up. */
export const projectStorageRepository = {
  /** Creates the project's row if missing and locks it: the caller's transaction then owns its counter. */
  async lock(db: Queryable, projectId: string): Promise<ProjectStorageRow> {
    await db.query(`INSERT INTO project_storage (project_id) VALUES ($1) ON CONFLICT (project_id) DO NOTHING`, [projectId]);
    const rows = (await db.query(
      `SELECT p.storage_quota_bytes AS quota_bytes, s.used_bytes
         FROM project_storage s JOIN projects p ON p.id = s.project_id
        WHERE s.project_id = $1 FOR UPDATE OF s`,
      [projectId],
    )) as { quota_bytes: string | null; used_bytes: string }[];
    return { quotaBytes: rows[0].quota_bytes, usedBytes: Number(rows[0].used_bytes) };
  },

  async addUsed(db: Queryable, projectId: string, bytes: number): Promise<void> {
    await db.query(`UPDATE project_storage SET used_bytes = used_bytes + $2 WHERE project_id = $1`, [projectId, bytes]);
  },

  /** Gives back a deleted blob's bytes. */
  async release(db: Queryable, projectId: string, bytes: number): Promise<void> {
    await db.query(`UPDATE project_storage SET used_bytes = greatest(used_bytes - $2, 0) WHERE project_id = $1`, [projectId, bytes]);
  },

  /** Without a lock, for reports: a project that never stored anything has no row yet. */
  async read(db: Queryable, projectId: string): Promise<ProjectStorageRow> {
    const [row] = (await db.query(
      `SELECT p.storage_quota_bytes AS quota_bytes, s.used_bytes
         FROM projects p LEFT JOIN project_storage s ON s.project_id = p.id
        WHERE p.id = $1`,
      [projectId],
    )) as { quota_bytes: string | null; used_bytes: string | null }[];
    return { quotaBytes: row.quota_bytes, usedBytes: Number(row.used_bytes ?? 0) };
  },
};
