// Pure builders of the objects a ModelDeployment owns: one Deployment per route and one Service.
// Everything here is a function of the resource, what the registry resolved and the operator's
// settings, so a reconcile can apply the result as a whole (server-side apply) every time.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { API_VERSION, KIND, type ModelDeployment, type TrafficRoute } from './model-deployment';

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  name: 'app.kubernetes.io/name',
  deployment: 'wharf.dev/model-deployment',
  route: 'wharf.dev/route',
  project: 'wharf.dev/project',
  model: 'wharf.dev/model',
  version: 'wharf.dev/version',
} as const;
export const MANAGER = 'wharf-operator';

/** What the scheduler extender and humans read from a pod: the version it must find on its node. */
export const ANNOTATIONS = {
  reference: 'wharf.dev/model-reference',
  digest: 'wharf.dev/version-digest',
  bytes: 'wharf.dev/version-bytes',
  cachePolicy: 'wharf.dev/cache-policy',
  requested: 'wharf.dev/requested-reference',
} as const;

export interface ResolvedRoute {
  route: TrafficRoute;
  project: string;
  model: string;
  version: number;
  digest: string;
  bytes: number;
  replicas: number;
}

export interface PodSettings {
  /** The node agent's cache directory on every node (its hostPath). */
  cacheDir: string;
  agentPort: number;
  /** Runs the wait for the node agent: needs sh and wget or curl. */
  initImage: string;
  executorImage: string;
  executorPort: number;
}

export const deploymentName = (md: ModelDeployment, route: TrafficRoute) => `${md.metadata!.name}-${route.name}`;

function ownerReference(md: ModelDeployment) {
  return { apiVersion: API_VERSION, kind: KIND, name: md.metadata!.name!, uid: md.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

export function commonLabels(md: ModelDeployment): Record<string, string> {
  return { [LABELS.managedBy]: MANAGER, [LABELS.name]: md.metadata!.name!, [LABELS.deployment]: md.metadata!.name! };
}

/** The init step: block until the node agent on this node holds the version (its long poll). */
function waitScript(settings: PodSettings, resolved: ResolvedRoute): string {
  const url = `http://$HOST_IP:${settings.agentPort}/v1/versions/${resolved.project}/${resolved.model}/${resolved.version}?wait=60s`;
  return `until wget -q -O /dev/null "${url}" 2>/dev/null || curl -sf -o /dev/null "${url}"; do echo "waiting for ${resolved.project}/${resolved.model}@${resolved.version} on this node"; sleep 2; done`;
}

export function buildDeployment(md: ModelDeployment, resolved: ResolvedRoute, settings: PodSettings): V1Deployment {
  const { spec } = md;
  const name = deploymentName(md, resolved.route);
  const selector = { [LABELS.deployment]: md.metadata!.name!, [LABELS.route]: resolved.route.name };
  const reference = `${resolved.project}/${resolved.model}@${resolved.version}`;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: md.metadata!.namespace, labels: { ...commonLabels(md), [LABELS.route]: resolved.route.name }, ownerReferences: [ownerReference(md)] },
    spec: {
      replicas: resolved.replicas,
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: { ...commonLabels(md), ...selector, [LABELS.project]: resolved.project, [LABELS.model]: resolved.model, [LABELS.version]: String(resolved.version) },
          annotations: {
            [ANNOTATIONS.reference]: reference,
            [ANNOTATIONS.digest]: resolved.digest,
            [ANNOTATIONS.bytes]: String(resolved.bytes),
            [ANNOTATIONS.cachePolicy]: spec.cache.policy,
            [ANNOTATIONS.requested]: resolved.route.model,
          },
        },
        spec: {
          nodeSelector: spec.nodeSelector,
          tolerations: spec.tolerations as never,
          volumes: [{ name: 'model-cache', hostPath: { path: settings.cacheDir, type: 'Directory' } }],
          initContainers: [{
            name: 'wait-for-model',
            image: settings.initImage,
            command: ['sh', '-c', waitScript(settings, resolved)],
            env: [{ name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }],
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } },
          }],
          containers: [executorContainer(md, settings), runtimeContainer(md, resolved)],
        },
      },
    },
  };
}

/** The executor is the pod's entry: the Service targets its port, it proxies to the runtime. */
function executorContainer(md: ModelDeployment, settings: PodSettings) {
  const { executor, runtime } = md.spec;
  return {
    name: 'executor',
    image: settings.executorImage,
    ports: [{ name: 'http', containerPort: settings.executorPort }],
    env: [
      { name: 'EXECUTOR_PORT', value: String(settings.executorPort) },
      { name: 'EXECUTOR_UPSTREAM_URL', value: `http://127.0.0.1:${runtime.port}` },
      { name: 'EXECUTOR_MODE', value: executor.mode },
      { name: 'EXECUTOR_CONCURRENCY', value: String(executor.concurrency) },
      { name: 'EXECUTOR_TIMEOUT_SECONDS', value: String(executor.timeoutSeconds) },
      { name: 'EXECUTOR_AUTH', value: executor.auth },
    ],
    readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5 },
    livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 6 },
  };
}

/** The runtime keeps its image; the model is the node cache's version directory, read-only. */
function runtimeContainer(md: ModelDeployment, resolved: ResolvedRoute) {
  const runtime = md.spec.runtime;
  return {
    name: 'runtime',
    image: runtime.image,
    command: runtime.command,
    args: runtime.args,
    ports: [{ name: 'runtime', containerPort: runtime.port }],
    env: [...(runtime.env ?? []), { name: 'WHARF_MODEL_PATH', value: runtime.modelPath }, { name: 'WHARF_MODEL_REFERENCE', value: `${resolved.project}/${resolved.model}@${resolved.version}` }],
    resources: runtime.resources,
    volumeMounts: [{
      name: 'model-cache',
      mountPath: runtime.modelPath,
      // subPath resolves when the container starts, after the init step saw the version ready.
      subPath: `versions/${resolved.project}/${resolved.model}/${resolved.version}`,
      readOnly: true,
    }],
    readinessProbe: runtime.readinessPath ? { httpGet: { path: runtime.readinessPath, port: 'runtime' }, periodSeconds: 5 } : undefined,
  } as never;
}

/** One Service over every route's pods: traffic splits in proportion to each route's replicas. */
export function buildService(md: ModelDeployment): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: md.metadata!.name, namespace: md.metadata!.namespace, labels: commonLabels(md), ownerReferences: [ownerReference(md)] },
    spec: {
      selector: { [LABELS.deployment]: md.metadata!.name! },
      ports: [{ name: 'http', port: 80, targetPort: 'http' as never, protocol: 'TCP' }],
    },
  };
}

/** Drops undefined values, which server-side apply would otherwise read as explicit nulls. */
export function prune<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
