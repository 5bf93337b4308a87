import { ERROR_CODES, ErrorCode } from './error-codes';

export interface FieldError {
  /** Dotted path of the offending field, e.g. `labels.team` or `metadata`. */
  field: string;
  message: string;
}

/**
 * The one exception services throw. It carries a stable code; the problem filter turns it into
 * `application/problem+json` with the code's HTTP status.
 */
export class WharfError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extensions: { errors?: FieldError[]; [key: string]: unknown } = {},
  ) {
    super(detail);
    this.name = 'WharfError';
    this.status = ERROR_CODES[code].status;
  }
}
