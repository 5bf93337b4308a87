import { EntityManager } from 'typeorm';
import { WharfError } from '../common/errors/wharf-error';
import { formatSelector, Selector } from '../common/validation/reference';
import { Queryable } from '../database/queryable';
import { Model } from '../models/model.entity';
import { tagRepository } from '../tags/tag.repository';
import { ModelVersion, VersionState } from './model-version.entity';

/** A version as lookups answer it: enough to point at it, lock it and check its state. */
export interface VersionRow {
  id: string;
  number: number;
  state: VersionState;
  manifest_digest: string | null;
  /** Set when the selector was a tag. */
  tag_pinned?: boolean;
}

const COLUMNS = 'v.id, v.number, v.state, v.manifest_digest';

function notFound(projectName: string, model: Model, selector: Selector): WharfError {
  const named = selector.kind === 'number' ? String(selector.number) : formatSelector(selector);
  return new WharfError('version_not_found', `No version ${named} of model "${projectName}/${model.name}"`);
}

function tagNotFound(projectName: string, model: Model, tag: string): WharfError {
  return new WharfError('tag_not_found', `No tag "${tag}" on model "${projectName}/${model.name}"`);
}

/** The SQL of the `model_versions` table, and the one way to look a version up. */
export const versionRepository = {
  /**
   * The version a selector names. `lock` takes a share lock on the version (and the tag), for a
   * transaction about to point something at it or add files to it: archiving, committing or
   * deleting that version waits for the transaction and then sees what it did.
   *
   * A digest may belong to several versions with identical files. Like a Docker digest it
   * names content, so it resolves to the first version that published that content: the
   * lowest-numbered ready version with the digest, else the lowest-numbered archived one. The
   * answer never changes when later versions repeat the same files.
   */
  async findBySelector(db: Queryable, projectName: string, model: Model, selector: Selector, lock = false): Promise<VersionRow> {
    let rows: VersionRow[];
    if (selector.kind === 'tag') {
      if (!lock) {
        // One statement, one snapshot: a tag moved away from a version deleted meanwhile is never half-read.
        rows = (await db.query(
          `SELECT ${COLUMNS}, t.pinned AS tag_pinned FROM tags t JOIN model_versions v ON v.id = t.version_id WHERE t.model_id = $1 AND t.name = $2`,
          [model.id, selector.tag],
        )) as VersionRow[];
        if (!rows[0]) throw tagNotFound(projectName, model, selector.tag);
        return rows[0];
      }
      const tag = await tagRepository.target(db, model.id, selector.tag, true);
      if (!tag) throw tagNotFound(projectName, model, selector.tag);
      rows = (await db.query(`SELECT ${COLUMNS}, $2::boolean AS tag_pinned FROM model_versions v WHERE v.id = $1 FOR SHARE`, [tag.versionId, tag.pinned])) as VersionRow[];
      return rows[0];
    }
    if (selector.kind === 'number') {
      rows = (await db.query(`SELECT ${COLUMNS} FROM model_versions v WHERE v.model_id = $1 AND v.number = $2 ${lock ? 'FOR SHARE' : ''}`, [
        model.id,
        selector.number,
      ])) as VersionRow[];
    } else {
      rows = (await db.query(
        `SELECT ${COLUMNS} FROM model_versions v
          WHERE v.model_id = $1 AND v.manifest_digest = $2 AND v.state IN ('ready', 'archived')
          ORDER BY (v.state = 'ready') DESC, v.number LIMIT 1 ${lock ? 'FOR SHARE' : ''}`,
        [model.id, selector.digest],
      )) as VersionRow[];
    }
    if (!rows[0]) throw notFound(projectName, model, selector);
    return rows[0];
  },

  /** The whole version by number, for its own routes; `forUpdate` locks it for a state change. */
  async findEntity(manager: EntityManager, projectName: string, model: Model, number: number, forUpdate = false): Promise<ModelVersion> {
    const query = manager
      .getRepository(ModelVersion)
      .createQueryBuilder('version')
      .where('version.model_id = :modelId AND version.number = :number', { modelId: model.id, number });
    if (forUpdate) query.setLock('pessimistic_write');
    const version = await query.getOne();
    if (!version) throw notFound(projectName, model, { kind: 'number', number });
    return version;
  },

  /** The newest ready version of the model other than `exclude` (a version about to be deleted). */
  async newestReady(db: Queryable, modelId: string, exclude?: string): Promise<VersionRow | null> {
    const rows = (await db.query(
      `SELECT id, number, state, manifest_digest FROM model_versions
        WHERE model_id = $1 AND state = 'ready' AND id IS DISTINCT FROM $2
        ORDER BY number DESC LIMIT 1`,
      [modelId, exclude ?? null],
    )) as VersionRow[];
    return rows[0] ?? null;
  },

  /** A version's state under a share lock, or null when it was deleted. */
  async stateForShare(db: Queryable, id: string): Promise<VersionState | null> {
    const rows = (await db.query(`SELECT state FROM model_versions WHERE id = $1 FOR SHARE`, [id])) as { state: VersionState }[];
    return rows[0]?.state ?? null;
  },

  async numberOf(db: Queryable, id: string): Promise<number> {
    const [row] = (await db.query(`SELECT number FROM model_versions WHERE id = $1`, [id])) as { number: number }[];
    return row.number;
  },

  async manifestDigest(db: Queryable, id: string): Promise<string | null> {
    const [row] = (await db.query(`SELECT manifest_digest FROM model_versions WHERE id = $1`, [id])) as { manifest_digest: string | null }[];
    return row.manifest_digest;
  },

  async markReady(db: Queryable, id: string, manifestDigest: string): Promise<void> {
    await db.query(`UPDATE model_versions SET state = 'ready', committed_at = now(), manifest_digest = $2 WHERE id = $1`, [id, manifestDigest]);
  },
};

/** Tags and routes point only at ready versions. */
export function assertReady(projectName: string, model: Model, version: VersionRow, field = 'ref'): void {
  if (version.state !== 'ready') {
    throw new WharfError('version_not_ready', `Version ${version.number} of "${projectName}/${model.name}" is ${version.state}, not ready`, {
      errors: [{ field, message: `version ${version.number} is ${version.state}` }],
    });
  }
}
