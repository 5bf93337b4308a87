/** An RFC 9457 problem answered by the registry, with its stable code. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  requestId?: string;
  errors?: { field: string; message: string }[];
  [extension: string]: unknown;
}

/** The registry refused the request; `code` is the stable problem code to branch on. */
export class WharfApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(
    readonly problem: Problem,
    readonly method: string,
    readonly url: string,
  ) {
    const fields = problem.errors?.length ? ` (${problem.errors.map((e) => `${e.field}: ${e.message}`).join('; ')})` : '';
    super(`${problem.detail}${fields}`);
    this.name = 'WharfApiError';
    this.status = problem.status;
    this.code = problem.code;
  }
}

/** The registry could not be reached (or kept failing) after every retry. */
export class WharfUnavailableError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'WharfUnavailableError';
  }
}

/** Bytes failed their check: a local file changed while it was pushed, or a download does not match its digest. */
export class WharfIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WharfIntegrityError';
  }
}

/** What the caller asked to transfer cannot be: a missing path, a symbolic link, a name the registry refuses. */
export class WharfInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WharfInputError';
  }
}
