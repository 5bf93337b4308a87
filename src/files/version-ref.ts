import { EntityManager } from 'typeorm';
import { ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { ModelsService } from '../models/models.service';
import { VersionState } from '../versions/model-version.entity';
import { parseVersionNumber } from '../versions/versions.service';
import { completeReference, parseReference, Selector } from '../references/reference';
import { findVersion as findSelectedVersion } from '../references/version-lookup';

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
 * The version a `{ref}` segment of a download path names: a version number (`3`), a tag
 * (`prod`) or a manifest digest (`sha256:…`, or `@sha256:…`), read by the one reference parser.
 * A reference spelling out its project or model (`vision/resnet@3`) must name the path's own:
 * `b/m1@1` under project `a` is refused, not read as a's version 1.
 */
export function refSelector(ref: string, context: { project: string; model: string }): Selector {
  if (/^[0-9]+$/.test(ref)) return { kind: 'number', number: parseVersionNumber(ref) };
  if (ref.startsWith('sha256:')) return parseReference(`@${ref}`).selector;
  return completeReference(parseReference(ref, { bareIsTag: true }), context).selector;
}

export async function resolveVersionRef(
  models: ModelsService,
  manager: EntityManager,
  project: ProjectContext,
  modelName: string,
  ref: string,
): Promise<VersionRow> {
  const model = await models.find(project, modelName, manager);
  const version = await findSelectedVersion(manager, project.name, model, refSelector(ref, { project: project.name, model: model.name }));
  return { id: version.id, number: version.number, state: version.state, modelName: model.name };
}
