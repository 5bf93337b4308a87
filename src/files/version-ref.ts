import { EntityManager } from 'typeorm';
import { ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { ModelsService } from '../models/models.service';
import { VersionState } from '../versions/model-version.entity';
import { parseVersionNumber } from '../versions/versions.service';

export interface VersionRow {
  id: string;
  number: number;
  state: VersionState;
  modelName: string;
}

/**
 * The version a `{version}` path segment names, optionally locked. Writes (uploads, form files)
 * take `share` so commits (which lock the row for update) wait for them and vice versa.
 */
export async function findVersion(
  models: ModelsService,
  manager: EntityManager,
  project: ProjectContext,
  modelName: string,
  number: number,
  lock?: 'share' | 'update',
): Promise<VersionRow> {
  const model = await models.find(project, modelName, manager);
  const rows: { id: string; number: number; state: VersionState }[] = await manager.query(
    `SELECT id, number, state FROM model_versions WHERE model_id = $1 AND number = $2 ${lock === 'share' ? 'FOR SHARE' : lock === 'update' ? 'FOR UPDATE' : ''}`,
    [model.id, number],
  );
  if (!rows[0]) throw new WharfError('version_not_found', `No version ${number} of model "${project.name}/${model.name}"`);
  return { ...rows[0], modelName: model.name };
}

/**
 * The version a `{ref}` in a download path names. For now a ref is a version number; tags and
 * manifest digests plug in here and nowhere else.
 */
export async function resolveVersionRef(
  models: ModelsService,
  manager: EntityManager,
  project: ProjectContext,
  modelName: string,
  ref: string,
): Promise<VersionRow> {
  return findVersion(models, manager, project, modelName, parseVersionNumber(ref));
}
