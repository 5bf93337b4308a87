// What the validating webhook checks beyond the CRD's schema: each problem names its field, the
// way the apiserver's own schema errors do, so `kubectl apply` says exactly what to fix.
import type { ModelDeployment, ModelDeploymentSpec } from '../model-deployment';
import { parseReference } from '../reference';

const ROUTE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_NAME = 63;

export function validateModelDeployment(md: ModelDeployment, old?: ModelDeployment): string[] {
  const spec = md.spec ?? ({} as ModelDeploymentSpec);
  const namespace = md.metadata?.namespace;
  const name = md.metadata?.name ?? '';
  const problems: string[] = [];
  const reference = (field: string, ref: string | undefined) => {
    if (!ref) return problems.push(`${field}: Required value: a model reference such as ${namespace ?? 'project'}/model:prod`);
    try {
      const parsed = parseReference(ref, namespace);
      if (namespace && parsed.project !== namespace) {
        problems.push(`${field}: Invalid value: "${ref}": the project must be the namespace's (${namespace}); a namespace serves its own project's models`);
      }
    } catch (error) {
      problems.push(`${field}: Invalid value: ${(error as Error).message}`);
    }
  };

  if ((spec.model === undefined) === (spec.traffic === undefined)) {
    problems.push('spec.model: Invalid value: give exactly one of spec.model and spec.traffic');
  }
  if (spec.model !== undefined) reference('spec.model', spec.model);
  if (spec.model !== undefined && name.length + '-main'.length > MAX_NAME) {
    problems.push(`metadata.name: Too long: at most ${MAX_NAME - 5} characters (its Deployment is named <name>-main)`);
  }
  if (spec.traffic !== undefined) validateTraffic(spec, name, reference, problems);
  validateRuntime(spec, problems);
  validateScale(spec, problems);
  validateExecutor(spec, problems);
  if (old) validateImmutable(md, old, problems);
  return problems;
}

function validateTraffic(spec: ModelDeploymentSpec, name: string, reference: (field: string, ref: string | undefined) => void, problems: string[]): void {
  const traffic = spec.traffic!;
  if (traffic.length === 0 || traffic.length > 10) problems.push('spec.traffic: Invalid value: between 1 and 10 routes');
  const names = new Set<string>();
  let sum = 0;
  traffic.forEach((route, index) => {
    const field = `spec.traffic[${index}]`;
    reference(`${field}.model`, route.model);
    if (!Number.isInteger(route.weight) || route.weight < 0 || route.weight > 100) problems.push(`${field}.weight: Invalid value: ${route.weight}: an integer from 0 to 100`);
    else sum += route.weight;
    if (!ROUTE_NAME.test(route.name ?? '') || `${name}-${route.name}`.length > MAX_NAME) {
      problems.push(`${field}.name: Invalid value: "${route.name}": a DNS label, and <metadata.name>-<route name> at most ${MAX_NAME} characters`);
    }
    if (names.has(route.name)) problems.push(`${field}.name: Duplicate value: "${route.name}"`);
    names.add(route.name);
  });
  if (traffic.length > 0 && sum !== 100) problems.push(`spec.traffic: Invalid value: the weights sum to ${sum}, they must sum to 100`);
}

function validateRuntime(spec: ModelDeploymentSpec, problems: string[]): void {
  const runtime = spec.runtime;
  if (!runtime?.image) problems.push('spec.runtime.image: Required value: the model server image (it runs unchanged)');
  if (runtime && (!Number.isInteger(runtime.port) || runtime.port < 1 || runtime.port > 65535)) problems.push(`spec.runtime.port: Invalid value: ${runtime.port}: a port from 1 to 65535`);
  if (runtime?.modelPath !== undefined && !runtime.modelPath.startsWith('/')) problems.push(`spec.runtime.modelPath: Invalid value: "${runtime.modelPath}": an absolute path`);
}

function validateScale(spec: ModelDeploymentSpec, problems: string[]): void {
  if (spec.replicas !== undefined && spec.autoscaling !== undefined) problems.push('spec.replicas: Forbidden: give spec.replicas or spec.autoscaling, not both');
  if (spec.replicas !== undefined && (!Number.isInteger(spec.replicas) || spec.replicas < 0 || spec.replicas > 1000)) problems.push(`spec.replicas: Invalid value: ${spec.replicas}: from 0 to 1000`);
  const auto = spec.autoscaling;
  if (auto && !(auto.minReplicas >= 1 && auto.maxReplicas >= auto.minReplicas && auto.maxReplicas <= 1000)) {
    problems.push(`spec.autoscaling: Invalid value: minReplicas ${auto.minReplicas}, maxReplicas ${auto.maxReplicas}: 1 ≤ min ≤ max ≤ 1000`);
  }
}

function validateExecutor(spec: ModelDeploymentSpec, problems: string[]): void {
  const executor = spec.executor;
  if (!executor) return;
  if (!['sync', 'async'].includes(executor.mode)) problems.push(`spec.executor.mode: Unsupported value: "${executor.mode}": supported values: "sync", "async"`);
  if (!Number.isInteger(executor.concurrency) || executor.concurrency < 1 || executor.concurrency > 1024) {
    problems.push(`spec.executor.concurrency: Invalid value: ${executor.concurrency}: from 1 to 1024`);
  }
  if (!Number.isInteger(executor.timeoutSeconds) || executor.timeoutSeconds < 1 || executor.timeoutSeconds > 3600) {
    problems.push(`spec.executor.timeoutSeconds: Invalid value: ${executor.timeoutSeconds}: from 1 to 3600`);
  }
  if (!['none', 'token'].includes(executor.auth)) problems.push(`spec.executor.auth: Unsupported value: "${executor.auth}": supported values: "none", "token"`);
}

/** A ModelDeployment serves one model for its life: another model is another ModelDeployment. */
function validateImmutable(md: ModelDeployment, old: ModelDeployment, problems: string[]): void {
  const identity = (ref: string | undefined) => {
    try {
      const parsed = parseReference(ref ?? '', old.metadata?.namespace);
      return `${parsed.project}/${parsed.model}`;
    } catch {
      return undefined;
    }
  };
  const before = identity(old.spec?.model);
  if (old.spec?.model !== undefined && md.spec?.model !== undefined && before !== undefined && identity(md.spec.model) !== before) {
    problems.push(`spec.model: Invalid value: "${md.spec.model}": field is immutable except for the tag, number or digest (was ${before}); create another ModelDeployment for another model`);
  }
}
