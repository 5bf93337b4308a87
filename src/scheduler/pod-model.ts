/*
 * Which model version a pod serves, and how strictly it wants a warm node. The operator (or a
 * user) writes these annotations on the pod template; pods without them are not Wharf's business
 * and pass the extender untouched.
 */

/** `project/model@N`: a concrete version, resolved before the pod exists, so that the hot path never resolves tags. */
export const MODEL_ANNOTATION = 'wharf.dev/model-version';
/** `prefer` (default) or `require`. */
export const POLICY_ANNOTATION = 'wharf.dev/cache-policy';

export type CachePolicy = 'prefer' | 'require';

export interface PodModel {
  project: string;
  model: string;
  version: number;
  policy: CachePolicy;
}

export type PodModelResult = { kind: 'none' } | { kind: 'model'; model: PodModel } | { kind: 'invalid'; reason: string };

const REFERENCE = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)\/([A-Za-z0-9][-A-Za-z0-9_.]{0,127})@([1-9][0-9]{0,9})$/;

export function podModel(annotations: Record<string, string> | undefined): PodModelResult {
  const reference = annotations?.[MODEL_ANNOTATION];
  if (reference === undefined) return { kind: 'none' };
  const match = REFERENCE.exec(reference.trim());
  if (!match || Number(match[4]) > 2_147_483_647) {
    return { kind: 'invalid', reason: `annotation ${MODEL_ANNOTATION}="${reference.slice(0, 300)}" is not project/model@<version number>` };
  }
  const policy = annotations?.[POLICY_ANNOTATION] ?? 'prefer';
  if (policy !== 'prefer' && policy !== 'require') {
    return { kind: 'invalid', reason: `annotation ${POLICY_ANNOTATION}="${policy.slice(0, 100)}" must be prefer or require` };
  }
  return { kind: 'model', model: { project: match[1], model: match[3], version: Number(match[4]), policy } };
}

export const versionRef = (model: Pick<PodModel, 'project' | 'model' | 'version'>) => `${model.project}/${model.model}@${model.version}`;
