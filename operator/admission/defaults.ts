// Defaults for a ModelDeployment, applied by the mutating webhook before the object is stored and
// again by the controller (so a cluster without the webhooks behaves the same).
import type { ModelDeployment, ModelDeploymentSpec } from '../model-deployment';
import { formatReference, parseReference } from '../reference';

export const DEFAULTS = {
  port: 8080,
  modelPath: '/mnt/models',
  executor: { mode: 'sync', concurrency: 8, timeoutSeconds: 60, auth: 'none' },
  cache: { policy: 'prefer', warmBeforeRollout: false },
  replicas: 1,
} as const;

/** A reference with its project filled in from the namespace; left as it is when malformed. */
function normalised(ref: string | undefined, namespace: string | undefined): string | undefined {
  if (ref === undefined) return undefined;
  try {
    return formatReference(parseReference(ref, namespace));
  } catch {
    return ref; // the validating webhook refuses it, naming the field
  }
}

export function withDefaults(spec: Partial<ModelDeploymentSpec> | undefined, namespace?: string): ModelDeploymentSpec {
  const input = (spec ?? {}) as Partial<ModelDeploymentSpec>;
  const runtime = (input.runtime ?? {}) as Partial<ModelDeploymentSpec['runtime']>;
  const result: ModelDeploymentSpec = {
    ...input,
    runtime: { ...runtime, image: runtime.image ?? '', port: runtime.port ?? DEFAULTS.port, modelPath: runtime.modelPath ?? DEFAULTS.modelPath },
    executor: { ...DEFAULTS.executor, ...(input.executor ?? {}) },
    cache: { ...DEFAULTS.cache, ...(input.cache ?? {}) },
  };
  if (input.model !== undefined) result.model = normalised(input.model, namespace);
  if (input.traffic !== undefined) {
    result.traffic = input.traffic.map((route, index) => ({ ...route, name: route.name || `route-${index}`, model: normalised(route.model, namespace) ?? route.model }));
  }
  if (input.replicas === undefined && input.autoscaling === undefined) result.replicas = DEFAULTS.replicas;
  return result;
}

/** Labels that let `kubectl get md -l wharf.dev/model=…` find the deployments of a model. */
export function defaultLabels(md: ModelDeployment, spec: ModelDeploymentSpec): Record<string, string> {
  const labels = { ...(md.metadata?.labels ?? {}) };
  const first = spec.model ?? spec.traffic?.[0]?.model;
  try {
    const ref = parseReference(first ?? '', md.metadata?.namespace);
    labels['wharf.dev/project'] = ref.project;
    labels['wharf.dev/model'] = ref.model;
  } catch {
    // malformed: the validating webhook refuses the object
  }
  return labels;
}
