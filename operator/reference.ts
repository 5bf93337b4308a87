// Model references as a ModelDeployment names them: `project/model:tag`, `project/model@3`,
// `project/model@sha256:<64 hex>`; the project may be left out (`model:tag`), it is then the
// namespace's. The same rules as the registry's names (lower-case DNS-label-like segments).

export type Selector = { kind: 'tag'; tag: string } | { kind: 'number'; number: number } | { kind: 'digest'; digest: string };

export interface ModelReference {
  project: string;
  model: string;
  selector: Selector;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const MODEL = /^[a-z0-9]([a-z0-9._-]{0,126}[a-z0-9])?$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Parses REF, the project defaulting to NAMESPACE; throws an Error saying what is wrong. */
export function parseReference(ref: string, namespace?: string): ModelReference {
  const match = /^(?:([^/@:]+)\/)?([^/@:]+)(?::([^/@:]+)|@(.+))$/.exec(ref);
  if (!match) throw new Error(`"${ref}" is not a reference: use project/model:tag, project/model@3 or project/model@sha256:<digest>`);
  const [, projectPart, model, tag, at] = match;
  const project = projectPart ?? namespace;
  if (!project) throw new Error(`"${ref}" names no project`);
  if (!NAME.test(project)) throw new Error(`project "${project}" is not a DNS label (lower-case letters, digits and '-', at most 63)`);
  if (!MODEL.test(model)) throw new Error(`model "${model}" is not a valid model name`);
  if (tag !== undefined) {
    if (!TAG.test(tag)) throw new Error(`tag "${tag}" is not a valid tag`);
    return { project, model, selector: { kind: 'tag', tag } };
  }
  if (/^\d+$/.test(at)) {
    const number = Number(at);
    if (!Number.isSafeInteger(number) || number < 1) throw new Error(`version number "${at}" must be a positive integer`);
    return { project, model, selector: { kind: 'number', number } };
  }
  if (DIGEST.test(at)) return { project, model, selector: { kind: 'digest', digest: at } };
  throw new Error(`"@${at}" is neither a version number nor a sha256 manifest digest`);
}

export function formatReference(ref: ModelReference): string {
  const { selector } = ref;
  const suffix = selector.kind === 'tag' ? `:${selector.tag}` : selector.kind === 'number' ? `@${selector.number}` : `@${selector.digest}`;
  return `${ref.project}/${ref.model}${suffix}`;
}

/** What the registry's resolve endpoint takes as `ref`. */
export function selectorParam(selector: Selector): string {
  return selector.kind === 'tag' ? selector.tag : selector.kind === 'number' ? `@${selector.number}` : `@${selector.digest}`;
}
