import { ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { ADMIN_TOKEN } from './test-registry';

const ROOT = path.resolve(__dirname, '../..');

export interface RegistryProcess {
  url: string;
  child: ChildProcess;
  /** Every log line the process printed so far (JSON lines and plain stderr). */
  output: string[];
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<void>;
}

/**
 * Runs the registry as a real child process, the way operators run it, and resolves once it
 * logs that it is listening. PORT=0 lets the OS pick the port. From the sources through swc by
 * default; `compiled` runs `dist/` as `npm start` does (build first), without the compiler's
 * own memory in the process, for measurements.
 */
export async function startRegistryProcess(
  env: Record<string, string>,
  timeoutMs = 30_000,
  options: { compiled?: boolean } = {},
): Promise<RegistryProcess> {
  const entry = options.compiled ? ['dist/src/main.js'] : ['-r', '@swc-node/register', 'src/main.ts'];
  const child = spawn(process.execPath, entry, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      WHARF_ADMIN_TOKEN: ADMIN_TOKEN,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`registry did not start within ${timeoutMs} ms:\n${output.join('\n')}`)), timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (!line.includes('wharf registry listening')) return;
      clearTimeout(timer);
      resolve(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`registry exited with ${code} before listening:\n${output.join('\n')}`));
    });
  });
  const url = await listening;
  return {
    url,
    child,
    output,
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The embedded database's own process (a child of the registry when it runs one), from /proc. */
export async function embeddedDatabasePid(registry: RegistryProcess): Promise<number | null> {
  const pid = registry.child.pid!;
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean);
  for (const child of children) {
    if ((await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '')).includes('wharf-embedded-postgres')) return Number(child);
  }
  return null;
}
