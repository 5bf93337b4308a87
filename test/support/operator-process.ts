import { startChild, type ChildHandle } from './child-process';

/** The operator as a child process: every line it printed, kill (SIGKILL) and stop (SIGTERM). */
export type OperatorProcess = ChildHandle;

/**
 * Runs the operator (operator/main.ts) as a real child process from the sources, resolving once it
 * logs that it runs (informers synced, webhooks served). `compiled` runs dist/ (build first), without
 * the compiler's own memory in the process, for measurements.
 */
export async function startOperatorProcess(env: Record<string, string>, timeoutMs = 60_000, options: { compiled?: boolean } = {}): Promise<OperatorProcess> {
  return startChild({
    name: 'operator',
    args: options.compiled ? ['dist/operator/main.js'] : ['-r', '@swc-node/register', 'operator/main.ts'],
    env: { LOG_LEVEL: 'info', ...env },
    ready: (line) => (line.includes('wharf operator running') ? true : undefined),
    timeoutMs,
  });
}
