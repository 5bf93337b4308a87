// Executor injection for pods Wharf does not deploy: a pod labelled wharf.dev/inject-executor=true
// gets the executor sidecar in front of its model server. The model server's port comes from the
// annotation wharf.dev/executor-upstream-port, else the first port of the first container.
import type { V1Pod } from '@kubernetes/client-node';

export const INJECT_LABEL = 'wharf.dev/inject-executor';
export const ANNOTATIONS = {
  upstreamPort: 'wharf.dev/executor-upstream-port',
  mode: 'wharf.dev/executor-mode',
  concurrency: 'wharf.dev/executor-concurrency',
  timeoutSeconds: 'wharf.dev/executor-timeout-seconds',
} as const;

export interface ExecutorImage {
  image: string;
  port: number;
}

export type Injection = { allowed: true; patch: object[] } | { allowed: false; message: string };

const field = (name: string) => `metadata.annotations[${name}]`;

export function injectExecutor(pod: V1Pod, executor: ExecutorImage): Injection {
  if (pod.metadata?.labels?.[INJECT_LABEL] !== 'true') return { allowed: true, patch: [] };
  const containers = pod.spec?.containers ?? [];
  if (containers.some((container) => container.name === 'executor')) return { allowed: true, patch: [] }; // already there (a re-invocation)
  const annotations = pod.metadata?.annotations ?? {};
  const given = annotations[ANNOTATIONS.upstreamPort];
  const upstream = given !== undefined ? Number(given) : containers[0]?.ports?.[0]?.containerPort;
  if (upstream === undefined) return { allowed: false, message: `${field(ANNOTATIONS.upstreamPort)}: Required value: the model server's port (its first container declares none)` };
  if (!Number.isInteger(upstream) || upstream < 1 || upstream > 65535) return { allowed: false, message: `${field(ANNOTATIONS.upstreamPort)}: Invalid value: "${given}": a port from 1 to 65535` };
  if (upstream === executor.port) return { allowed: false, message: `${field(ANNOTATIONS.upstreamPort)}: Invalid value: ${upstream}: the executor listens there itself` };
  const mode = annotations[ANNOTATIONS.mode] ?? 'sync';
  if (!['sync', 'async'].includes(mode)) return { allowed: false, message: `${field(ANNOTATIONS.mode)}: Unsupported value: "${mode}": supported values: "sync", "async"` };
  const concurrency = Number(annotations[ANNOTATIONS.concurrency] ?? 8);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) return { allowed: false, message: `${field(ANNOTATIONS.concurrency)}: Invalid value: from 1 to 1024` };
  const timeout = Number(annotations[ANNOTATIONS.timeoutSeconds] ?? 60);
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 3600) return { allowed: false, message: `${field(ANNOTATIONS.timeoutSeconds)}: Invalid value: from 1 to 3600` };
  const sidecar = {
    name: 'executor',
    image: executor.image,
    ports: [{ name: 'wharf-executor', containerPort: executor.port }],
    env: [
      { name: 'EXECUTOR_PORT', value: String(executor.port) },
      { name: 'EXECUTOR_UPSTREAM_URL', value: `http://127.0.0.1:${upstream}` },
      { name: 'EXECUTOR_MODE', value: mode },
      { name: 'EXECUTOR_CONCURRENCY', value: String(concurrency) },
      { name: 'EXECUTOR_TIMEOUT_SECONDS', value: String(timeout) },
    ],
    readinessProbe: { httpGet: { path: '/readyz', port: executor.port }, periodSeconds: 5 },
  };
  return { allowed: true, patch: [{ op: 'add', path: '/spec/containers/-', value: sidecar }] };
}
