import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(__dirname, '../..');

export interface OperatorProcess {
  child: ChildProcess;
  /** Every line it printed (pino JSON on stdout, anything else on stderr). */
  output: string[];
  /** SIGKILL, as a crash or an OOM kill would. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the operator (operator/main.ts) as a real child process from the sources, resolving once it
 * logs that it runs (informers synced, webhooks served). `compiled` runs dist/ (build first), without
 * the compiler's own memory in the process, for measurements.
 */
export async function startOperatorProcess(env: Record<string, string>, timeoutMs = 60_000, options: { compiled?: boolean } = {}): Promise<OperatorProcess> {
  const entry = options.compiled ? ['dist/operator/main.js'] : ['-r', '@swc-node/register', 'operator/main.ts'];
  const child = spawn(process.execPath, entry, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`operator did not start within ${timeoutMs} ms:\n${output.join('\n')}`)), timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (!line.includes('wharf operator running')) return;
      clearTimeout(timer);
      resolve();
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`operator exited with ${code} before running:\n${output.join('\n')}`));
    });
  });
  return {
    child,
    output,
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
