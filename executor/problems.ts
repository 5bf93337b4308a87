import type { ServerResponse } from 'node:http';

/**
 * The executor's problem codes, in the registry's vocabulary style (`urn:wharf:problem:<code>`,
 * RFC 9457 documents with a stable `code`). Clients branch on `code`; people read `detail`.
 */
export const EXECUTOR_PROBLEMS = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  unauthenticated: { status: 401, title: 'Authentication is required' },
  token_invalid: { status: 401, title: 'The token is not valid' },
  forbidden: { status: 403, title: 'The token does not allow this action' },
  not_found: { status: 404, title: 'No such resource' },
  job_not_found: { status: 404, title: 'No such async request (unknown or expired)' },
  async_disabled: { status: 404, title: 'Async requests are not enabled on this executor' },
  idempotency_key_reused: { status: 409, title: 'The idempotency key was used with another request body' },
  idempotency_key_in_progress: { status: 409, title: 'A request with this idempotency key is being accepted right now' },
  payload_too_large: { status: 413, title: 'The request body is larger than allowed' },
  rate_limited: { status: 429, title: 'Too many requests' },
  upstream_unavailable: { status: 502, title: 'The model server is unavailable' },
  upstream_failed: { status: 502, title: 'The model server broke off the response' },
  overloaded: { status: 503, title: 'The model server is at its concurrency limit and the wait queue is full' },
  queue_timeout: { status: 503, title: 'No concurrency slot came free in time' },
  registry_unavailable: { status: 503, title: 'The registry could not check the token' },
  queue_unavailable: { status: 503, title: 'The async queue is unavailable' },
  upstream_timeout: { status: 504, title: 'The model server did not answer in time' },
  internal_error: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ExecutorProblemCode = keyof typeof EXECUTOR_PROBLEMS;

export interface ExecutorProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ExecutorProblemCode;
  [extension: string]: unknown;
}

export function executorProblem(code: ExecutorProblemCode, detail: string, extra: Record<string, unknown> = {}): ExecutorProblem {
  const { status, title } = EXECUTOR_PROBLEMS[code];
  return { type: `urn:wharf:problem:${code}`, title, status, detail, code, ...extra };
}

/** A domain failure carrying its problem code; the server turns it into the document. */
export class ExecutorError extends Error {
  constructor(
    readonly code: ExecutorProblemCode,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ExecutorError';
  }
}

/**
 * Answers with a problem document unless headers already went out (then the only honest signal
 * left is to cut the connection, which the caller sees as a truncated response).
 */
export function sendProblem(response: ServerResponse, problem: ExecutorProblem, headers: Record<string, string> = {}): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body = JSON.stringify(problem);
  response.writeHead(problem.status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  response.end(body);
}
