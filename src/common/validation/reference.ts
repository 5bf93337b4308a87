import { WharfError } from '../errors/wharf-error';
import { nameProblem } from './names';

/**
 * References name a version the way Docker names an image, and this file is the only place
 * that reads or writes them (resolve, endpoint routes, CLI output):
 *
 *   project/model:tag                a tag, followed wherever it points
 *   project/model@3                  a version number
 *   project/model@sha256:<64 hex>    a manifest digest (the content)
 *
 * Inside a project the project may be left out (`model:tag`), and where the model is known
 * from the route the selector alone is enough (`:tag`, `@3`, `@sha256:…`).
 */
export type Selector = { kind: 'tag'; tag: string } | { kind: 'number'; number: number } | { kind: 'digest'; digest: string };

export interface Reference {
  project?: string;
  model?: string;
  selector: Selector;
}

/** A reference with every part known. */
export interface FullReference {
  project: string;
  model: string;
  selector: Selector;
}

export const MAX_REFERENCE_LENGTH = 512;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const NUMBER = /^[1-9][0-9]{0,9}$/;

export interface ParseOptions {
  /** The request field the reference came from, for the problem's `errors`. */
  field?: string;
  /** Read a string without `:` or `@` as a tag name (`?ref=prod`). */
  bareIsTag?: boolean;
}

function invalid(raw: unknown, field: string, message: string): WharfError {
  return new WharfError('invalid_reference', `${JSON.stringify(raw)} is not a valid reference: ${message}`, {
    errors: [{ field, message }],
  });
}

export function parseReference(raw: unknown, options: ParseOptions = {}): Reference {
  const field = options.field ?? 'ref';
  if (typeof raw !== 'string' || raw.length === 0) throw invalid(raw, field, 'a reference is required');
  if (raw.length > MAX_REFERENCE_LENGTH) throw invalid(raw.slice(0, 40) + '…', field, `at most ${MAX_REFERENCE_LENGTH} characters`);
  let text = raw;
  if (options.bareIsTag && !/[:@]/.test(text)) text = `:${text}`;

  let name: string;
  let selector: Selector;
  const at = text.indexOf('@');
  if (at >= 0) {
    name = text.slice(0, at);
    const rest = text.slice(at + 1);
    if (NUMBER.test(rest) && Number(rest) <= 2_147_483_647) selector = { kind: 'number', number: Number(rest) };
    else if (DIGEST.test(rest)) selector = { kind: 'digest', digest: rest };
    else throw invalid(raw, field, 'after "@" comes a version number (@3) or a manifest digest (@sha256:<64 lowercase hex>)');
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) throw invalid(raw, field, 'a reference ends in ":tag", "@number" or "@sha256:<digest>"');
    name = text.slice(0, colon);
    const tag = text.slice(colon + 1);
    const problem = nameProblem('tag', tag);
    if (problem) throw invalid(raw, field, problem);
    selector = { kind: 'tag', tag };
  }

  if (name === '') return { selector };
  const parts = name.split('/');
  if (parts.length > 2) throw invalid(raw, field, 'a reference names at most "project/model"');
  const [project, model] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (project !== undefined) {
    const problem = nameProblem('project', project);
    if (problem) throw invalid(raw, field, problem);
  }
  const problem = nameProblem('model', model);
  if (problem) throw invalid(raw, field, problem);
  return { project, model, selector };
}

/** An endpoint named where a version reference may stand (`resolve?ref=project/endpoint`). */
export interface EndpointReference {
  project: string;
  endpoint: string;
}

/**
 * `project/endpoint`, with no selector, names an endpoint (the CLI's `wharf split
 * project/endpoint …` form). A version reference always ends in a selector (`:tag`, `@3`,
 * `@sha256:…`) and a bare word is a tag, so the forms never overlap. Null for anything else.
 */
export function parseEndpointReference(raw: string, field = 'ref'): EndpointReference | null {
  if (/[:@]/.test(raw) || !raw.includes('/')) return null;
  const parts = raw.split('/');
  if (parts.length !== 2) throw invalid(raw, field, 'an endpoint is named "project/endpoint"');
  const [project, endpoint] = parts;
  const problem = nameProblem('project', project) ?? nameProblem('endpoint', endpoint);
  if (problem) throw invalid(raw, field, problem);
  return { project, endpoint };
}

/**
 * Completes a reference with the project (and model) of the route it was given to. A
 * reference naming another project or model than the route is refused: a route never reaches
 * outside its own project.
 */
export function completeReference(
  reference: Reference,
  context: { project: string; model?: string },
  field = 'ref',
): FullReference {
  const raw = formatSelector(reference.selector);
  if (reference.project !== undefined && reference.project !== context.project) {
    throw invalid(`${reference.project}/${reference.model}${raw}`, field, `it names project "${reference.project}", not "${context.project}"`);
  }
  if (reference.model !== undefined && context.model !== undefined && reference.model !== context.model) {
    throw invalid(`${reference.model}${raw}`, field, `it names model "${reference.model}", not "${context.model}"`);
  }
  const model = reference.model ?? context.model;
  if (model === undefined) throw invalid(raw, field, 'the model is missing (e.g. "resnet:prod" or "vision/resnet@3")');
  return { project: context.project, model, selector: reference.selector };
}

export function formatSelector(selector: Selector): string {
  switch (selector.kind) {
    case 'tag':
      return `:${selector.tag}`;
    case 'number':
      return `@${selector.number}`;
    case 'digest':
      return `@${selector.digest}`;
  }
}

export function formatReference(reference: FullReference): string {
  return `${reference.project}/${reference.model}${formatSelector(reference.selector)}`;
}

/** Version numbers in paths: a positive integer without sign or leading zeros. */
export function parseVersionNumber(raw: string): number {
  const number = /^[1-9][0-9]{0,9}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(number) || number > 2_147_483_647) {
    throw new WharfError('validation_failed', `"${raw}" is not a version number`, {
      errors: [{ field: 'version', message: 'must be a positive integer' }],
    });
  }
  return number;
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
