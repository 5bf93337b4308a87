import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/** The repository's root, where `-r @swc-node/register src/main.ts` resolves. */
export const ROOT = path.resolve(__dirname, '../..');

export interface ChildHandle {
  child: ChildProcess;
  /** Every line the process printed so far, stdout and stderr interleaved as they arrived. */
  output: string[];
  /** Resolves with the exit code (null after a signal) once the process has exited. */
  exited: Promise<number | null>;
  /** SIGKILL, as a crash would, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, and wait for a clean exit. */
  stop(): Promise<void>;
}

export interface ChildOptions<T> {
  /** Named in the errors: "registry did not start …". */
  name: string;
  /** Arguments to `node` (the script and its flags); `command` runs another program instead. */
  args: string[];
  command?: string;
  /** The child's whole environment besides PATH and HOME: nothing else leaks in from the test. */
  env: Record<string, string | undefined>;
  cwd?: string;
  /** Looks at each stdout line; the first non-undefined answer means the process is ready. */
  ready?: (line: string) => T | undefined;
  /** For a program that prints nothing when ready (a quiet log level): asked until it answers. */
  probe?: () => Promise<T | undefined>;
  timeoutMs?: number;
}

/**
 * Starts a program (a registry, a node agent, a baseline server) as a real child process and
 * resolves once it prints the line that says it is ready — an event, never a guessed delay. A
 * process that exits or stays silent past the deadline fails the start with everything it printed.
 */
export async function startChild<T>(options: ChildOptions<T>): Promise<ChildHandle & { ready: T }> {
  const { name, timeoutMs = 30_000 } = options;
  const child = spawn(options.command ?? process.execPath, options.args, {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  const ready = await new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (error: Error | null, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value as T);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle(new Error(`${name} did not start within ${timeoutMs} ms:\n${output.join('\n')}`));
    }, timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      const answer = settled ? undefined : options.ready?.(line);
      if (answer !== undefined) settle(null, answer);
    });
    void exited.then((code) => settle(new Error(`${name} exited with ${code} before it was ready:\n${output.join('\n')}`)));
    if (options.probe) void probeUntilReady(options.probe, () => settled).then((value) => value !== undefined && settle(null, value));
  });
  return {
    child,
    output,
    exited,
    ready,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Asks `probe` every 50 ms (its errors mean "not yet") until it answers or the start is settled. */
async function probeUntilReady<T>(probe: () => Promise<T | undefined>, settled: () => boolean): Promise<T | undefined> {
  while (!settled()) {
    const answer = await probe().catch(() => undefined);
    if (answer !== undefined) return answer;
    await sleep(50);
  }
  return undefined;
}

/** `ready` for Wharf's programs: the JSON log line holding `message` carries the port it listens on. */
export function listeningPort(message: string): (line: string) => number | undefined {
  return (line) => (line.includes(message) ? (JSON.parse(line) as { port: number }).port : undefined);
}
