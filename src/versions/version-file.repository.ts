import { Queryable } from '../database/queryable';

/** A file of a version: a path naming one of the project's blobs. */
export interface VersionFileRow {
  path: string;
  size: number;
  sha256: string;
}

/** The SQL of the `version_files` table: the manifest of every version. */
export const versionFileRepository = {
  /** The version's files in byte order of their paths, the order of the manifest. */
  async list(db: Queryable, versionId: string): Promise<VersionFileRow[]> {
    const rows = (await db.query(`SELECT f.path, f.size, f.sha256 FROM version_files f WHERE f.version_id = $1 ORDER BY f.path COLLATE "C"`, [versionId])) as {
      path: string;
      size: string;
      sha256: string;
    }[];
    return rows.map((row) => ({ path: row.path, size: Number(row.size), sha256: row.sha256 }));
  },

  /** One file with the store key of its bytes, or null. */
  async findWithBlob(db: Queryable, versionId: string, path: string): Promise<(VersionFileRow & { storageKey: string }) | null> {
    const rows = (await db.query(
      `SELECT f.size, f.sha256, b.storage_key FROM version_files f
         JOIN blobs b ON b.project_id = f.project_id AND b.sha256 = f.sha256
        WHERE f.version_id = $1 AND f.path = $2`,
      [versionId, path],
    )) as { size: string; sha256: string; storage_key: string }[];
    return rows[0] ? { path, size: Number(rows[0].size), sha256: rows[0].sha256, storageKey: rows[0].storage_key } : null;
  },

  /** Adds a file to a draft version, or replaces the file at that path. */
  async attach(db: Queryable, versionId: string, projectId: string, path: string, blob: { sha256: string; size: number }): Promise<void> {
    await db.query(
      `INSERT INTO version_files (version_id, path, project_id, sha256, size) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (version_id, path) DO UPDATE SET sha256 = EXCLUDED.sha256, size = EXCLUDED.size, created_at = now()`,
      [versionId, path, projectId, blob.sha256, blob.size],
    );
  },
};
