import { Queryable } from '../database/queryable';
import { returning } from '../database/returning';
import type { UploadState } from './dto/upload.dto';

/** An upload as the uploads queries read it, with its version's model and number. */
export interface UploadRow {
  id: string;
  project_id: string;
  version_id: string | null;
  path: string;
  size: string;
  sha256: string;
  part_size: string;
  part_count: number;
  state: UploadState;
  storage_key: string;
  store_upload_id: string;
  failure: string | null;
  created_at: Date;
  expires_at: Date;
  model_name: string | null;
  version_number: number | null;
  deduplicated: boolean;
}

export interface PartRow {
  number: number;
  size: string;
  sha256: string | null;
  etag: string;
  received_at: Date;
}

/** What a new session row holds; `storeUploadId` is '' for a file attached by dedupe (no bytes sent). */
export interface NewUpload {
  id: string;
  projectId: string;
  versionId: string;
  path: string;
  size: number;
  sha256: string;
  partSize: number;
  partCount: number;
  storageKey: string;
  storeUploadId: string;
  createdBy: string;
}

/** Sessions that still hold bytes back: their sizes count against the quota, their keys are not garbage. */
const LIVE = `('open', 'completing')`;

const UPLOAD_SELECT = `
  SELECT u.*, m.name AS model_name, v.number AS version_number, (u.store_upload_id = '') AS deduplicated
    FROM uploads u
    LEFT JOIN model_versions v ON v.id = u.version_id
    LEFT JOIN models m ON m.id = v.model_id`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The SQL of the `uploads` and `upload_parts` tables; every other room asks here. */
export const uploadRepository = {
  async find(db: Queryable, projectId: string, id: string, lock = false): Promise<UploadRow | null> {
    const rows = (await db.query(`${UPLOAD_SELECT} WHERE u.id = $1 AND u.project_id = $2 ${lock ? 'FOR UPDATE OF u' : ''}`, [id, projectId])) as UploadRow[];
    return rows[0] ?? null;
  },

  /** The name of the project an upload belongs to, or null for an unknown (or malformed) id. */
  async projectNameOf(db: Queryable, id: string): Promise<string | null> {
    if (!UUID.test(id)) return null;
    const rows = (await db.query(`SELECT p.name FROM uploads u JOIN projects p ON p.id = u.project_id WHERE u.id = $1`, [id])) as { name: string }[];
    return rows[0]?.name ?? null;
  },

  /** A session already receiving this path of the version, locked. */
  async findLiveForPath(db: Queryable, versionId: string, path: string): Promise<{ id: string; size: string; sha256: string } | null> {
    const rows = (await db.query(`SELECT id, size, sha256 FROM uploads WHERE version_id = $1 AND path = $2 AND state IN ${LIVE} FOR UPDATE`, [
      versionId,
      path,
    ])) as { id: string; size: string; sha256: string }[];
    return rows[0] ?? null;
  },

  /** An open session that expires after `idleSeconds` without a part; or, with `complete`, a finished one (dedupe). */
  async insert(db: Queryable, upload: NewUpload, state: 'open' | 'complete', idleSeconds: number): Promise<string> {
    const [{ id }] = (await db.query(
      `INSERT INTO uploads (id, project_id, version_id, path, size, sha256, part_size, part_count, state, storage_key, store_upload_id, created_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now() + make_interval(secs => $13))
       RETURNING id`,
      [upload.id, upload.projectId, upload.versionId, upload.path, upload.size, upload.sha256, upload.partSize, upload.partCount, state,
        upload.storageKey, upload.storeUploadId, upload.createdBy, state === 'open' ? idleSeconds : 0],
    )) as { id: string }[];
    return id;
  },

  /** Pushes an open session's expiry back; false when it is no longer open. */
  async touchOpen(db: Queryable, id: string, idleSeconds: number): Promise<boolean> {
    const touched = await returning(db, `UPDATE uploads SET updated_at = now(), expires_at = now() + make_interval(secs => $2) WHERE id = $1 AND state = 'open' RETURNING id`, [
      id,
      idleSeconds,
    ]);
    return touched.length > 0;
  },

  async setCompleting(db: Queryable, id: string, idleSeconds: number): Promise<void> {
    await db.query(`UPDATE uploads SET state = 'completing', updated_at = now(), expires_at = now() + make_interval(secs => $2) WHERE id = $1`, [id, idleSeconds]);
  },

  async setState(db: Queryable, id: string, state: 'complete' | 'aborted'): Promise<void> {
    await db.query(`UPDATE uploads SET state = $2, updated_at = now() WHERE id = $1`, [id, state]);
  },

  /** Fails a completing session; false when it had already left `completing` (someone else decided). */
  async failCompleting(db: Queryable, id: string, reason: string): Promise<boolean> {
    const failed = await returning(db, `UPDATE uploads SET state = 'failed', failure = $2, updated_at = now() WHERE id = $1 AND state = 'completing' RETURNING id`, [id, reason]);
    return failed.length > 0;
  },

  async parts(db: Queryable, id: string): Promise<PartRow[]> {
    return (await db.query(`SELECT * FROM upload_parts WHERE upload_id = $1 ORDER BY number`, [id])) as PartRow[];
  },

  /** Records a stored part; sending a part again replaces it. */
  async upsertPart(db: Queryable, id: string, part: { number: number; size: number; sha256: string | null; etag: string }): Promise<PartRow> {
    const [row] = (await db.query(
      `INSERT INTO upload_parts (upload_id, number, size, sha256, etag) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (upload_id, number) DO UPDATE SET size = EXCLUDED.size, sha256 = EXCLUDED.sha256, etag = EXCLUDED.etag, received_at = now()
       RETURNING *`,
      [id, part.number, part.size, part.sha256, part.etag],
    )) as PartRow[];
    return row;
  },

  /** Sessions of a version still receiving or checking bytes: a commit waits for them. */
  async countLiveForVersion(db: Queryable, versionId: string): Promise<number> {
    const [{ pending }] = (await db.query(`SELECT count(*)::int AS pending FROM uploads WHERE version_id = $1 AND state IN ${LIVE}`, [versionId])) as { pending: number }[];
    return pending;
  },

  /** Bytes the project's sessions in progress will add when they complete. */
  async liveBytesOfProject(db: Queryable, projectId: string): Promise<number> {
    const [{ pending }] = (await db.query(`SELECT coalesce(sum(size), 0) AS pending FROM uploads WHERE project_id = $1 AND state IN ${LIVE}`, [projectId])) as {
      pending: string;
    }[];
    return Number(pending);
  },

  /** Expires idle sessions (and those whose version is gone), skipping rows another replica holds. */
  async expireIdle(db: Queryable): Promise<{ storage_key: string; store_upload_id: string }[]> {
    return returning(
      db,
      `UPDATE uploads SET state = 'expired', updated_at = now()
        WHERE id IN (SELECT id FROM uploads WHERE state IN ${LIVE} AND (expires_at <= now() OR version_id IS NULL)
                     FOR UPDATE SKIP LOCKED)
        RETURNING storage_key, store_upload_id`,
    );
  },

  /** Deletes finished sessions untouched for `keepSeconds`; answers how many. */
  async deleteFinishedBefore(db: Queryable, keepSeconds: number): Promise<number> {
    const rows = await returning(db, `DELETE FROM uploads WHERE state NOT IN ${LIVE} AND updated_at < now() - make_interval(secs => $1) RETURNING id`, [keepSeconds]);
    return rows.length;
  },

  async isLiveStoreUpload(db: Queryable, storeUploadId: string): Promise<boolean> {
    const rows = (await db.query(`SELECT 1 FROM uploads WHERE store_upload_id = $1 AND state IN ${LIVE}`, [storeUploadId])) as unknown[];
    return rows.length > 0;
  },

  /** Of these store keys, those a live session writes to. */
  async liveKeys(db: Queryable, keys: string[]): Promise<string[]> {
    const rows = (await db.query(`SELECT storage_key AS key FROM uploads WHERE storage_key = ANY($1) AND state IN ${LIVE}`, [keys])) as { key: string }[];
    return rows.map((row) => row.key);
  },
};
