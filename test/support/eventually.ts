import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The one way tests (and benches) wait: poll a condition until it holds, with a deadline, and on
 * timeout say what was awaited and where things stood. Never a fixed sleep: the test goes on the
 * moment the event happened, and a slow machine only makes it slower, not red.
 */
export interface WaitOptions<T> {
  /** Give up after this long (default 20 s: the shared machine is slow, a met condition returns at once). */
  timeoutMs?: number;
  /** Pause between two checks (default 100 ms). */
  everyMs?: number;
  /** When the value read counts as done (default: truthy). */
  until?: (value: T) => boolean;
  /** How the last value is shown in the timeout error (default JSON). */
  show?: (value: T) => string;
  /** A check that throws fails the wait at once (default: an error is one more "not yet"). */
  rethrow?: boolean;
  /** More to say on timeout, read only then (the end of a server's log). */
  explain?: () => string;
}

/**
 * Polls `check` until its value is done (truthy unless `until` says otherwise) and returns that
 * value. Errors thrown by `check` count as "not yet" (a server still starting) unless `rethrow`.
 * The last argument is the timeout in ms, or the options.
 */
export async function eventually<T>(check: () => Promise<T> | T, what: string, options: number | WaitOptions<T> = {}, everyMs?: number): Promise<T> {
  const settings: WaitOptions<T> = typeof options === 'number' ? { timeoutMs: options, everyMs } : options;
  const { timeoutMs = 20_000, until = (value: T) => Boolean(value), show = (value: T) => JSON.stringify(value), rethrow = false } = settings;
  const deadline = Date.now() + timeoutMs;
  let last: { value: T } | { error: unknown } | undefined;
  for (;;) {
    try {
      const value = await check();
      if (until(value)) return value;
      last = { value };
    } catch (error) {
      if (rethrow) throw error;
      last = { error };
    }
    if (Date.now() > deadline) {
      const more = settings.explain ? `\n${settings.explain()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${describe(last, show)}${more}`);
    }
    await sleep(settings.everyMs ?? 100);
  }
}

function describe<T>(last: { value: T } | { error: unknown } | undefined, show: (value: T) => string): string {
  if (last === undefined) return 'never checked';
  if ('error' in last) return `last error: ${last.error instanceof Error ? last.error.message : String(last.error)}`;
  return `last: ${show(last.value)}`;
}

/** How long until `check` first holds, in ms (for "seen within N ms" measurements). */
export async function timeUntil(check: () => Promise<boolean> | boolean, what: string, options: number | WaitOptions<boolean> = {}): Promise<number> {
  const started = Date.now();
  await eventually(check, what, options);
  return Date.now() - started;
}
