import { WharfApiError, WharfInputError, WharfIntegrityError, WharfUnavailableError } from '../client/errors';

/** The CLI's exit codes; documented in docs/cli.md and stable for scripts. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  conflict: 5,
  invalid: 6,
  unavailable: 7,
  integrity: 8,
  interrupted: 130,
} as const;

/** A failure the CLI explains in one sentence and exits with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof WharfUnavailableError) return EXIT.unavailable;
  if (error instanceof WharfIntegrityError) return EXIT.integrity;
  if (error instanceof WharfInputError) return EXIT.usage;
  if (error instanceof WharfApiError) {
    if (error.status === 401 || error.status === 403) return EXIT.auth;
    if (error.status === 404) return EXIT.notFound;
    if (error.status === 409) return EXIT.conflict;
    if (error.status === 400 || error.status === 413 || error.status === 422) return EXIT.invalid;
    if (error.status === 429 || error.status >= 500) return EXIT.unavailable;
  }
  return EXIT.failure;
}

export function describeError(error: unknown): string {
  if (error instanceof WharfApiError) {
    const hint = error.status === 401 ? ' (run `wharf login`, or set WHARF_TOKEN)' : '';
    return `${error.message} [${error.code}]${hint}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
