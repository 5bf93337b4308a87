import { EntityManager } from 'typeorm';
import { WharfError } from '../common/errors/wharf-error';
import { Model } from '../models/model.entity';
import { VersionState } from '../versions/model-version.entity';
import { formatSelector, Selector } from './reference';

export interface VersionRow {
  id: string;
  number: number;
  state: VersionState;
  manifest_digest: string | null;
  /** Set when the selector was a tag. */
  tag_pinned?: boolean;
}

/**
 * The version a selector names. `lock` takes a share lock on the version (and the tag), for a
 * transaction about to point something at it: archiving or deleting that version waits for
 * the transaction and then sees the new reference.
 *
 * A digest may belong to several versions with identical files. Like a Docker digest it
 * names content, so it resolves to the first version that published that content: the
 * lowest-numbered ready version with the digest, else the lowest-numbered archived one. The
 * answer never changes when later versions repeat the same files.
 */
export async function findVersion(
  manager: EntityManager,
  projectName: string,
  model: Model,
  selector: Selector,
  lock = false,
): Promise<VersionRow> {
  const columns = 'v.id, v.number, v.state, v.manifest_digest';
  let rows: VersionRow[];
  if (selector.kind === 'tag') {
    if (lock) {
      // The tag row is locked alone, then its version read: a lock over the join would, after
      // waiting for a concurrent move, re-check the join against the version read before the
      // wait and answer no row, a false "tag not found" (see TagWriter.lock).
      const tags: { version_id: string; pinned: boolean }[] = await manager.query(
        `SELECT version_id, pinned FROM tags WHERE model_id = $1 AND name = $2 FOR SHARE`,
        [model.id, selector.tag],
      );
      if (!tags[0]) throw new WharfError('tag_not_found', `No tag "${selector.tag}" on model "${projectName}/${model.name}"`);
      rows = await manager.query(`SELECT ${columns}, $2::boolean AS tag_pinned FROM model_versions v WHERE v.id = $1 FOR SHARE`, [
        tags[0].version_id,
        tags[0].pinned,
      ]);
      return rows[0];
    }
    rows = await manager.query(
      `SELECT ${columns}, t.pinned AS tag_pinned FROM tags t JOIN model_versions v ON v.id = t.version_id
        WHERE t.model_id = $1 AND t.name = $2`,
      [model.id, selector.tag],
    );
    if (!rows[0]) throw new WharfError('tag_not_found', `No tag "${selector.tag}" on model "${projectName}/${model.name}"`);
    return rows[0];
  }
  if (selector.kind === 'number') {
    rows = await manager.query(
      `SELECT ${columns} FROM model_versions v WHERE v.model_id = $1 AND v.number = $2 ${lock ? 'FOR SHARE' : ''}`,
      [model.id, selector.number],
    );
  } else {
    rows = await manager.query(
      `SELECT ${columns} FROM model_versions v
        WHERE v.model_id = $1 AND v.manifest_digest = $2 AND v.state IN ('ready', 'archived')
        ORDER BY (v.state = 'ready') DESC, v.number LIMIT 1 ${lock ? 'FOR SHARE' : ''}`,
      [model.id, selector.digest],
    );
  }
  if (!rows[0]) {
    throw new WharfError('version_not_found', `No version ${formatSelector(selector)} of model "${projectName}/${model.name}"`);
  }
  return rows[0];
}

/** Tags and routes point only at ready versions. */
export function assertReady(projectName: string, model: Model, version: VersionRow, field = 'ref'): void {
  if (version.state !== 'ready') {
    throw new WharfError('version_not_ready', `Version ${version.number} of "${projectName}/${model.name}" is ${version.state}, not ready`, {
      errors: [{ field, message: `version ${version.number} is ${version.state}` }],
    });
  }
}
