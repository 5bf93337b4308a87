import { Queryable } from '../database/queryable';
import { returning } from '../database/returning';

/** A project's content-addressed bytes: one row per (project, sha256). */
export interface BlobRow {
  sha256: string;
  size: number;
  storageKey: string;
}

/** The SQL of the `blobs` table. */
export const blobRepository = {
  /** The blob with this digest in the project, locked against garbage collection until commit. */
  async findForShare(db: Queryable, projectId: string, sha256: string): Promise<BlobRow | null> {
    const rows = (await db.query(`SELECT sha256, size, storage_key FROM blobs WHERE project_id = $1 AND sha256 = $2 FOR SHARE`, [
      projectId,
      sha256,
    ])) as { sha256: string; size: string; storage_key: string }[];
    return rows[0] ? { sha256: rows[0].sha256, size: Number(rows[0].size), storageKey: rows[0].storage_key } : null;
  },

  /** Inserts the blob unless the project has it already; true when this call inserted it. */
  async insertIfAbsent(db: Queryable, projectId: string, blob: BlobRow): Promise<boolean> {
    const inserted = (await db.query(
      `INSERT INTO blobs (project_id, sha256, size, storage_key) VALUES ($1, $2, $3, $4)
       ON CONFLICT (project_id, sha256) DO NOTHING RETURNING sha256`,
      [projectId, blob.sha256, blob.size, blob.storageKey],
    )) as unknown[];
    return inserted.length > 0;
  },

  /** Blobs no version file names, older than `graceSeconds` (an upload may be about to attach a new one). */
  async unreferenced(db: Queryable, graceSeconds: number, limit: number): Promise<{ projectId: string; sha256: string }[]> {
    const rows = (await db.query(
      `SELECT b.project_id, b.sha256 FROM blobs b
        WHERE b.created_at < now() - make_interval(secs => $1)
          AND NOT EXISTS (SELECT 1 FROM version_files f WHERE f.project_id = b.project_id AND f.sha256 = b.sha256)
        LIMIT $2`,
      [graceSeconds, limit],
    )) as { project_id: string; sha256: string }[];
    return rows.map((row) => ({ projectId: row.project_id, sha256: row.sha256 }));
  },

  /** Deletes the blob unless a file names it (checked again here, and by the RESTRICT foreign key). */
  async deleteIfUnreferenced(db: Queryable, projectId: string, sha256: string): Promise<{ storageKey: string; size: number } | null> {
    const rows = await returning<{ storage_key: string; size: string }>(
      db,
      `DELETE FROM blobs b WHERE b.project_id = $1 AND b.sha256 = $2
          AND NOT EXISTS (SELECT 1 FROM version_files f WHERE f.project_id = b.project_id AND f.sha256 = b.sha256)
       RETURNING storage_key, size`,
      [projectId, sha256],
    );
    return rows[0] ? { storageKey: rows[0].storage_key, size: Number(rows[0].size) } : null;
  },

  /** Of these store keys, those a blob holds. */
  async knownKeys(db: Queryable, keys: string[]): Promise<string[]> {
    const rows = (await db.query(`SELECT storage_key AS key FROM blobs WHERE storage_key = ANY($1)`, [keys])) as { key: string }[];
    return rows.map((row) => row.key);
  },
};
