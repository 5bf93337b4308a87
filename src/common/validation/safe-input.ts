import { FieldError } from '../errors/wharf-error';

/**
 * Values the request's JSON or query may carry but Postgres (or a sane API) cannot: checked once
 * at the edge, for every body, query and path parameter, so no route meets them.
 *
 * - NUL: `text` and `jsonb` refuse U+0000 outright.
 * - A lone UTF-16 surrogate (`"\ud800"` in JSON): `jsonb` refuses it, and `text` would store
 *   U+FFFD instead of what was sent.
 * - Nesting deeper than MAX_INPUT_DEPTH: each level costs stack in class-transformer and in
 *   Postgres' jsonb parser (which fails with "stack depth limit exceeded"); no field of the API
 *   needs more.
 * - A number a double cannot hold exactly (beyond ±2^53, or not finite as `1e400` parses): it
 *   would be stored as something other than what was sent, or overflow a column.
 * - A key that names a JavaScript prototype (`__proto__`, or `constructor`/`prototype` holding an
 *   object): class-transformer drops them without a word, so the unknown-field rule never saw
 *   them, and they are the shape of prototype-pollution attempts.
 */
export const MAX_INPUT_DEPTH = 32;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function stringProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain a NUL character';
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode (it has a lone UTF-16 surrogate)';
  return undefined;
}

function keyProblem(key: string, value: unknown): string | undefined {
  const problem = stringProblem(key);
  if (problem) return `its key ${problem}`;
  if (key === '__proto__' || ((key === 'constructor' || key === 'prototype') && typeof value === 'object' && value !== null)) {
    return 'is not allowed (it names a JavaScript prototype)';
  }
  return undefined;
}

function numberProblem(value: number): string | undefined {
  if (!Number.isFinite(value)) return 'must be a finite number';
  if (Math.abs(value) > Number.MAX_SAFE_INTEGER) return `must be between ${-Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`;
  return undefined;
}

/**
 * The problems of one input value (a body, a query object, a path parameter), each named by the
 * dotted field it sits in. Stops at the first problem per branch and at the depth limit, so a
 * hostile value costs at most one bounded walk.
 */
export function unsafeInputProblems(value: unknown, field: string): FieldError[] {
  const problems: FieldError[] = [];
  const walk = (current: unknown, at: string, depth: number): void => {
    if (problems.length >= 10) return;
    if (typeof current === 'string') {
      const problem = stringProblem(current);
      if (problem) problems.push({ field: at, message: problem });
      return;
    }
    if (typeof current === 'number') {
      const problem = numberProblem(current);
      if (problem) problems.push({ field: at, message: problem });
      return;
    }
    if (current === null || typeof current !== 'object') return;
    if (depth >= MAX_INPUT_DEPTH) {
      problems.push({ field: at, message: `nests deeper than ${MAX_INPUT_DEPTH} levels` });
      return;
    }
    const entries = Array.isArray(current) ? current.map((item, index) => [String(index), item] as const) : Object.entries(current);
    for (const [key, item] of entries) {
      const problem = keyProblem(key, item);
      const child = at ? `${at}.${safeKey(key)}` : safeKey(key);
      if (problem) problems.push({ field: child, message: problem });
      else walk(item, child, depth + 1);
    }
  };
  walk(value, field, 0);
  return problems;
}

/** A key as it may be echoed in a problem: without the characters that made it a problem. */
function safeKey(key: string): string {
  return key.replaceAll('\u0000', '\\u0000').replace(/[\uD800-\uDFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}
