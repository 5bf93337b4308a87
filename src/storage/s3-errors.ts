import { UNAVAILABLE_ERRNOS } from '../common/errors/unavailable';

/** What S3 (and RGW, MinIO) answer when it is overloaded or broken inside, not when asked wrong. */
const UNAVAILABLE_S3_CODES = new Set(['ServiceUnavailable', 'SlowDown', 'InternalError', 'RequestTimeout']);

/**
 * The minio client, once its own retry of a 5xx answer fails too, throws a plain Error that
 * carries neither code nor status, only these words.
 */
const RETRIES_EXHAUSTED = /^Request failed after \d+ retries/;

/** True when an error of the minio client says the store did not answer rather than said no. */
export function isStoreUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_ERRNOS.has(code) || UNAVAILABLE_S3_CODES.has(code))) return true;
  return typeof message === 'string' && RETRIES_EXHAUSTED.test(message);
}
