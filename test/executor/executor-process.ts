import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../support/ports';

const ROOT = path.resolve(__dirname, '../..');

export interface ExecutorProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Every line the process printed (JSON access logs and plain stderr). */
  output: string[];
  exited: Promise<number | null>;
  /** Resident memory of the process now, in bytes (from /proc). */
  rss(): number;
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Brings dist/ up to date (a no-op when it is, as in CI after `npm run build`), for runs of the
 * compiled executor: what the image runs, without the compiler's memory in the process.
 */
export function buildIfStale(): void {
  const build = spawnSync(process.execPath, ['scripts/build.js', '--if-stale'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
}

/**
 * Runs the executor as the sidecar runs: a child process configured by its environment, from the
 * sources through swc (or `compiled`: dist/, after buildIfStale()). Resolves once it logs that it
 * listens (EXECUTOR_PORT=0 lets the OS pick).
 */
export async function startExecutorProcess(
  env: Record<string, string>,
  options: { timeoutMs?: number; compiled?: boolean; /** false: stdout to /dev/null (benchmarks) */ keepOutput?: boolean } = {},
): Promise<ExecutorProcess> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const entry = options.compiled ? ['dist/executor/main.js'] : ['-r', '@swc-node/register', 'executor/main.ts'];
  const port = await freePort();
  const child = spawn(process.execPath, entry, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, EXECUTOR_HOST: '127.0.0.1', LOG_LEVEL: 'info', READINESS_INTERVAL: '100ms', ...env, EXECUTOR_PORT: String(port) },
    stdio: ['ignore', options.keepOutput === false ? 'ignore' : 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve((exitCode = code ?? (signal ? -1 : null)))));
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  if (child.stdout) createInterface({ input: child.stdout }).on('line', (line) => output.push(line));
  // Up once /healthz answers: works at any LOG_LEVEL.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`executor exited with ${exitCode} before listening:\n${output.join('\n')}`);
    if (await fetch(`http://127.0.0.1:${port}/healthz`).then((response) => response.ok, () => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`executor did not start within ${timeoutMs} ms:\n${output.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    output,
    exited,
    rss() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
    signal(signal) {
      child.kill(signal);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
