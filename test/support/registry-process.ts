import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { listeningPort, startChild } from './child-process';
import { freePort } from './ports';
import { ADMIN_TOKEN } from './test-registry';

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

/** Log levels at which the registry does not print its "listening" line. */
const QUIET = new Set(['warn', 'error', 'fatal', 'silent']);

/**
 * Runs the registry as a real child process, the way operators run it, and resolves once it
 * logs that it is listening. PORT=0 lets the OS pick the port. With a quiet LOG_LEVEL (warn and
 * up: a bench that must not measure its log pipe) a free port is chosen here and /healthz is
 * asked instead. From the sources through swc by default; `compiled` runs `dist/` as `npm start`
 * does (build first), without the compiler's own memory in the process, for measurements.
 */
export async function startRegistryProcess(
  env: Record<string, string>,
  timeoutMs = 30_000,
  options: { compiled?: boolean } = {},
): Promise<RegistryProcess> {
  const quiet = QUIET.has(env.LOG_LEVEL ?? 'info');
  const port = quiet && !Number(env.PORT) ? String(await freePort()) : (env.PORT ?? '0');
  const healthy = async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? Number(port) : undefined);
  const started = await startChild({
    name: 'registry',
    args: options.compiled ? ['dist/src/main.js'] : ['-r', '@swc-node/register', 'src/main.ts'],
    env: { HOST: '127.0.0.1', LOG_LEVEL: 'info', WHARF_ADMIN_TOKEN: ADMIN_TOKEN, ...env, PORT: port },
    ...(quiet ? { probe: healthy } : { ready: listeningPort('wharf registry listening') }),
    timeoutMs,
  });
  return { url: `http://127.0.0.1:${started.ready}`, child: started.child, output: started.output, kill: started.kill, stop: started.stop };
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
