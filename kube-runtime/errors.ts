/**
 * A reconcile error that retrying cannot fix (a spec the registry refuses, a reference to a model
 * that does not exist): the work queue records it and does not retry the key until it changes
 * again. Any other thrown error is retried with backoff.
 */
export class TerminalError extends Error {
  constructor(
    message: string,
    /** A CamelCase reason for status conditions and Events, e.g. `ModelNotFound`. */
    readonly reason = 'TerminalError',
  ) {
    super(message);
    this.name = 'TerminalError';
  }
}

export function isTerminal(error: unknown): error is TerminalError {
  return error instanceof TerminalError;
}
