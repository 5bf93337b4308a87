// Test helpers for the cluster suite (test/cluster/, `npm run test:cluster`): the run's one cluster
// (started by test/cluster/global-setup.ts), a namespace of each test file's own, typed clients
// from @kubernetes/client-node, fake nodes kept Ready by kwok, and waits that show the object's last
// state when they time out.
import type * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { eventually } from './eventually';
import { KWOK_NODE_ANNOTATION } from '../cluster/components';
import { issueServingCert } from '../cluster/pki';
import { get } from '../cluster/probe';
import { readClusterInfo, type ClusterInfo } from '../cluster/runner';

type K8s = typeof k8s;

export interface TestCluster {
  info: ClusterInfo;
  k8s: K8s;
  config: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  autoscaling: k8s.AutoscalingV2Api;
  extensions: k8s.ApiextensionsV1Api;
  admission: k8s.AdmissionregistrationV1Api;
  registration: k8s.ApiregistrationV1Api;
  discovery: k8s.DiscoveryV1Api;
  custom: k8s.CustomObjectsApi;
  /** This test file's namespace, deleted (with everything in it) after the file. */
  namespace: string;
  /** Declares fake nodes kwok keeps Ready, deleted after the file; resolves once all are Ready. */
  addNodes(nodes: NodeSpec[]): Promise<k8s.V1Node[]>;
  /** GETs PATH from the apiserver as the admin, for what the typed clients do not cover. */
  get(path: string): Promise<{ status: number; body: string }>;
  /** A serving certificate from the cluster's CA, for a test's own HTTPS server. */
  servingCert(names: { ips?: string[]; dnsNames?: string[] }): { cert: string; key: string };
}

export interface NodeSpec {
  name: string;
  labels?: Record<string, string>;
  /** Capacity, also its allocatable: cpu, memory, nvidia.com/gpu, ephemeral-storage, pods. */
  capacity?: Record<string, string>;
}

const DEFAULT_CAPACITY = { cpu: '8', memory: '32Gi', 'ephemeral-storage': '100Gi', pods: '110' };

/**
 * Call once at the top of a test file: connects to the run's cluster and makes a namespace named
 * after PREFIX (a DNS label). The returned object is filled in before the file's first test.
 */
export function useCluster(prefix: string): TestCluster {
  const cluster = {} as TestCluster;
  const nodes: string[] = [];

  beforeAll(async () => {
    const dir = process.env.WHARF_CLUSTER_STATE;
    if (!dir) throw new Error('the cluster suite runs through `npm run test:cluster`');
    const info = readClusterInfo(dir);
    const lib: K8s = await import('@kubernetes/client-node');
    const config = new lib.KubeConfig();
    config.loadFromFile(info.kubeconfig);
    const namespace = `${prefix}-${Math.random().toString(36).slice(2, 7)}`;
    Object.assign(cluster, {
      info, k8s: lib, config, namespace,
      core: config.makeApiClient(lib.CoreV1Api),
      apps: config.makeApiClient(lib.AppsV1Api),
      autoscaling: config.makeApiClient(lib.AutoscalingV2Api),
      extensions: config.makeApiClient(lib.ApiextensionsV1Api),
      admission: config.makeApiClient(lib.AdmissionregistrationV1Api),
      registration: config.makeApiClient(lib.ApiregistrationV1Api),
      discovery: config.makeApiClient(lib.DiscoveryV1Api),
      custom: config.makeApiClient(lib.CustomObjectsApi),
      get: (path: string) => get(`${info.server}${path}`, { ca: info.ca.cert, ...info.admin }),
      servingCert: (names: { ips?: string[]; dnsNames?: string[] }) => issueServingCert(info.ca, names),
      addNodes: async (specs: NodeSpec[]) => {
        const created = [];
        for (const spec of specs) {
          const capacity = { ...DEFAULT_CAPACITY, ...spec.capacity };
          const node = await cluster.core.createNode({
            body: {
              metadata: { name: spec.name, labels: spec.labels, annotations: { [KWOK_NODE_ANNOTATION]: 'fake' } },
              status: { capacity, allocatable: capacity },
            },
          });
          nodes.push(spec.name);
          created.push(node);
        }
        return Promise.all(
          created.map((node) =>
            waitFor(`node ${node.metadata?.name} Ready`, () => cluster.core.readNode({ name: node.metadata!.name! }),
              (n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false),
          ),
        );
      },
    });
    await cluster.core.createNamespace({ body: { metadata: { name: namespace } } });
    // The controller-manager gives each namespace its default ServiceAccount; pods wait for it.
    await waitFor(`ServiceAccount ${namespace}/default`,
      () => cluster.core.readNamespacedServiceAccount({ namespace, name: 'default' }).catch(() => undefined),
      (sa) => sa !== undefined);
  });

  afterAll(async () => {
    if (!cluster.core) return;
    for (const name of nodes) await cluster.core.deleteNode({ name }).catch(() => undefined);
    await cluster.core.deleteNamespace({ name: cluster.namespace }).catch(() => undefined);
  });

  return cluster;
}

/**
 * Polls READ until DONE holds for what it returns, for up to TIMEOUT ms; on timeout the error shows
 * the last object read (as YAML), or the last error, so a failing wait says where things stood.
 */
export function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  return eventually(read, what, { timeoutMs, everyMs: 200, until: done, show: (value) => `state:\n${stringify(value)}` });
}

/** The body of a refused request (an ApiException's), parsed when it is a Kubernetes Status. */
export function apiError(error: unknown): { code?: number; message: string } {
  const e = error as { code?: number; body?: unknown; message?: string };
  let message = e.message ?? String(error);
  let body = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      message = body as string;
    }
  }
  if (typeof body === 'object' && body !== null && 'message' in body) message = String(body.message);
  return { code: e.code, message };
}
