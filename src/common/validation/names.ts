import { WharfError } from '../errors/wharf-error';

/**
 * One validator per kind of name. Path segments are checked here and nowhere else, so a name
 * accepted in one route is accepted in all of them.
 */

/** Project names are Kubernetes namespace names: RFC 1123 DNS labels. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const PROJECT_NAME_MAX = 63;

/** Model names follow Docker repository components: lowercase, digits and `.`, `_`, `-` inside. */
const MODEL_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const MODEL_NAME_MAX = 128;

/** Principals: users and service accounts, e.g. `alice`, `ci.bot`, `svc-trainer`. */
const PRINCIPAL_NAME = /^[a-z0-9]+(?:[._@-][a-z0-9]+)*$/;
export const PRINCIPAL_NAME_MAX = 128;

/** Label keys and values follow Kubernetes label syntax (an optional DNS prefix on the key). */
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const MAX_LABELS = 64;

/** Node names are Kubernetes node names: RFC 1123 DNS subdomains. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const NODE_NAME_MAX = 253;

/** Tags follow Docker tags: letters, digits, "_", "." and "-", not starting with "." or "-". */
const TAG_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
export const TAG_NAME_MAX = 128;

export type NameKind = 'project' | 'model' | 'principal' | 'tag' | 'endpoint' | 'node';

const RULES: Record<NameKind, { pattern: RegExp; max: number; rule: string }> = {
  project: {
    pattern: DNS_LABEL,
    max: PROJECT_NAME_MAX,
    rule: 'lowercase letters, digits and "-", starting and ending with a letter or digit (a DNS-1123 label)',
  },
  model: {
    pattern: MODEL_NAME,
    max: MODEL_NAME_MAX,
    rule: 'lowercase letters and digits, separated by single ".", "_" or "-"',
  },
  tag: {
    pattern: TAG_NAME,
    max: TAG_NAME_MAX,
    rule: 'letters, digits, "_", "." and "-", not starting with "." or "-" (a Docker tag)',
  },
  endpoint: {
    pattern: DNS_LABEL,
    max: PROJECT_NAME_MAX,
    rule: 'lowercase letters, digits and "-", starting and ending with a letter or digit (a DNS-1123 label)',
  },
  principal: {
    pattern: PRINCIPAL_NAME,
    max: PRINCIPAL_NAME_MAX,
    rule: 'lowercase letters and digits, separated by single ".", "_", "@" or "-"',
  },
  node: {
    pattern: DNS_SUBDOMAIN,
    max: NODE_NAME_MAX,
    rule: 'lowercase letters, digits, "-" and "." (a DNS-1123 subdomain, as Kubernetes node names are)',
  },
};

/** Returns why `value` is not a valid name of this kind, or undefined when it is. */
export function nameProblem(kind: NameKind, value: unknown): string | undefined {
  const { pattern, max, rule } = RULES[kind];
  if (typeof value !== 'string' || value.length === 0) return `a ${kind} name is required`;
  if (value.length > max) return `a ${kind} name has at most ${max} characters (got ${value.length})`;
  if (!pattern.test(value)) return `a ${kind} name uses ${rule}`;
  return undefined;
}

/** Validates a name and returns it, or throws a 400 `invalid_name` naming the field. */
export function assertName(kind: NameKind, value: unknown, field: string = kind): string {
  const problem = nameProblem(kind, value);
  if (problem) {
    throw new WharfError('invalid_name', `${JSON.stringify(value)} is not a valid ${kind} name: ${problem}`, {
      errors: [{ field, message: problem }],
    });
  }
  return value as string;
}

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !LABEL_PREFIX.test(prefix))) {
    return 'a label key prefix must be a DNS subdomain of at most 253 characters';
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return 'a label key name has 1-63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
  }
  return undefined;
}

export function labelValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'a label value must be a string';
  if (value === '') return undefined;
  if (value.length > 63 || !LABEL_NAME.test(value)) {
    return 'a label value has at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
  }
  return undefined;
}

/** Field errors for a labels object; empty when it is valid. */
export function labelsProblems(labels: unknown, field = 'labels'): { field: string; message: string }[] {
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    return [{ field, message: 'labels must be an object of string keys to string values' }];
  }
  const entries = Object.entries(labels as Record<string, unknown>);
  if (entries.length > MAX_LABELS) {
    return [{ field, message: `at most ${MAX_LABELS} labels are allowed (got ${entries.length})` }];
  }
  const problems: { field: string; message: string }[] = [];
  for (const [key, value] of entries) {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) problems.push({ field: `${field}.${key}`, message: keyProblem });
    const valueProblem = labelValueProblem(value);
    if (valueProblem) problems.push({ field: `${field}.${key}`, message: valueProblem });
  }
  return problems;
}
