import { WharfError } from '../errors/wharf-error';

/** Limits on a file path inside a version: generous for real models, bounded for the database. */
export const FILE_PATH_MAX_BYTES = 1024;
export const FILE_PATH_SEGMENT_MAX_BYTES = 255;

// Control characters (NUL included) never belong in a path.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?:[^\ud800-\udbff]|^)[\udc00-\udfff]/;

/**
 * Why `value` is not a valid file path, or undefined. Paths are relative, `/`-separated and
 * already normal: no leading `/`, no `\`, no empty, `.` or `..` segment, no drive letter, NFC
 * Unicode. Refusing (rather than fixing) keeps one spelling per file, so `a//b` and `a/b`
 * can never be two files.
 */
export function filePathProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return 'a file path is required';
  if (Buffer.byteLength(value) > FILE_PATH_MAX_BYTES) return `a file path has at most ${FILE_PATH_MAX_BYTES} bytes`;
  if (CONTROL.test(value)) return 'a file path cannot contain NUL or other control characters';
  if (LONE_SURROGATE.test(value)) return 'a file path must be valid Unicode';
  if (value.includes('\\')) return 'a file path uses "/" as separator, never "\\"';
  if (value.startsWith('/')) return 'a file path is relative: it cannot start with "/"';
  if (/^[A-Za-z]:/.test(value)) return 'a file path cannot start with a drive letter';
  if (value.normalize('NFC') !== value) return 'a file path must be in Unicode normal form C';
  for (const segment of value.split('/')) {
    if (segment === '') return 'a file path has no empty segments (no "//" and no trailing "/")';
    if (segment === '.' || segment === '..') return 'a file path cannot contain "." or ".." segments';
    if (Buffer.byteLength(segment) > FILE_PATH_SEGMENT_MAX_BYTES) return `each segment of a file path has at most ${FILE_PATH_SEGMENT_MAX_BYTES} bytes`;
  }
  return undefined;
}

/** Validates a file path and returns it, or throws 400 `invalid_path` naming the field. */
export function assertFilePath(value: unknown, field = 'path'): string {
  const problem = filePathProblem(value);
  if (problem) {
    throw new WharfError('invalid_path', `${JSON.stringify(value)} is not a valid file path: ${problem}`, {
      errors: [{ field, message: problem }],
    });
  }
  return value as string;
}
