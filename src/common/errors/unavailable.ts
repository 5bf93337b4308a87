/** How long a client is asked to wait before it tries again while a dependency is down. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * A dependency (the object store, the database) did not answer for a reason that passes:
 * refused, reset, timed out, shutting down. The driver layer, which knows its errors, raises
 * it; the problem filter answers 503 with Retry-After and the stable code, never the driver's
 * message (that stays in `cause`, for the log).
 *
 * Deliberately not a WharfError: code that takes a WharfError as the request's final answer
 * (an upload marked failed and its bytes deleted) must not do that for an outage.
 */
export abstract class DependencyUnavailableError extends Error {
  abstract readonly code: 'storage_unavailable' | 'database_unavailable';

  constructor(
    readonly detail: string,
    override readonly cause: unknown,
  ) {
    super(detail);
  }
}

/** Socket errors of a connection that was refused, reset, cut or never answered. */
export const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);
