import { ERROR_CODES, ErrorCode, problemType } from './error-codes';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** An RFC 9457 problem document with Wharf's `code` and `requestId` extensions. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

export function problemDocument(
  code: ErrorCode,
  detail: string,
  extra: Record<string, unknown> = {},
): ProblemDocument {
  const { status, title } = ERROR_CODES[code];
  return { type: problemType(code), title, status, detail, code, ...extra };
}
