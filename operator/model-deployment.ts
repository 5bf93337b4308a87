// The ModelDeployment custom resource (wharf.dev/v1alpha1) as the operator reads it. The schema
// the apiserver enforces is deploy/base/operator/modeldeployment-crd.yaml; the admission webhooks
// (admission/) check what a schema cannot and fill in defaults, so by the time the controller
// reads an object every defaulted field is set.
import type { KubernetesObject } from '@kubernetes/client-node';

export const GROUP = 'wharf.dev';
export const VERSION = 'v1alpha1';
export const KIND = 'ModelDeployment';
export const PLURAL = 'modeldeployments';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const FIELD_MANAGER = 'wharf-operator';

export type CachePolicy = 'require' | 'prefer' | 'none';

export interface TrafficRoute {
  /** Names the route's Deployment (`<deployment>-<name>`); stable while weights change. */
  name: string;
  model: string;
  weight: number;
}

export interface RuntimeSpec {
  image: string;
  command?: string[];
  args?: string[];
  port: number;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessPath?: string;
  /** Where the runtime container finds the model (the read-only cache mount). */
  modelPath: string;
}

export interface ExecutorSpec {
  mode: 'sync' | 'async';
  concurrency: number;
  timeoutSeconds: number;
  auth: 'none' | 'token';
}

export interface ModelDeploymentSpec {
  /** One reference (`project/model:tag`, `@N`, `@sha256:…`) or `traffic`, never both. */
  model?: string;
  traffic?: TrafficRoute[];
  runtime: RuntimeSpec;
  replicas?: number;
  autoscaling?: { minReplicas: number; maxReplicas: number; metrics?: unknown[] };
  executor: ExecutorSpec;
  cache: { policy: CachePolicy; warmBeforeRollout: boolean };
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
}

export interface Condition {
  type: 'Ready' | 'ModelResolved' | 'CacheWarm' | 'Progressing' | 'Degraded';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export interface RouteStatus {
  name: string;
  reference: string;
  version: number;
  digest: string;
  bytes: number;
  weight: number;
  replicas: number;
  readyReplicas: number;
}

export interface ModelDeploymentStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  routes?: RouteStatus[];
  replicas?: number;
  readyReplicas?: number;
  /** `p/m@N` of the single route, or the routes joined: shown in `kubectl get`. */
  version?: string;
}

export interface ModelDeployment extends KubernetesObject {
  spec: ModelDeploymentSpec;
  status?: ModelDeploymentStatus;
}

/** The routes a spec serves: its traffic list, or its one model as a route named `main`. */
export function routesOf(spec: ModelDeploymentSpec): TrafficRoute[] {
  if (spec.traffic && spec.traffic.length > 0) return spec.traffic;
  return [{ name: 'main', model: spec.model ?? '', weight: 100 }];
}

export const collectionPath = (namespace?: string) =>
  namespace ? `/apis/${API_VERSION}/namespaces/${namespace}/${PLURAL}` : `/apis/${API_VERSION}/${PLURAL}`;
export const objectPath = (namespace: string, name: string) => `${collectionPath(namespace)}/${name}`;
