// Cache-aware scheduling end to end: a real kube-scheduler with a second profile, wharf-scheduler,
// calling the extender of a real registry process (embedded database: the cluster's network
// namespace has no shared Postgres), kwok nodes, and node cache state seeded by heartbeats through
// PUT /api/v1/nodes/{node} the way agents send them.
import type { V1Pod } from '@kubernetes/client-node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import supertest from 'supertest';
import { startChild, type ChildHandle } from '../support/child-process';
import { useCluster, waitFor } from '../support/cluster';
import { createModel, createProject } from '../support/fixtures';
import { bytes, nodeAgentToken, publishVersion } from '../support/node-cache';
import { freePort } from '../support/ports';
import { startRegistryProcess, type RegistryProcess } from '../support/registry-process';
import { bearer } from '../support/test-registry';

const cluster = useCluster('cachesched');
const TOKEN = 'cluster_scheduler_token_0123456789';
const MODEL_BYTES = 64 * 1024;
const pool = () => ({ 'wharf.test/pool': cluster.namespace });
const nodeName = (i: number) => `${cluster.namespace}-n${i}`;
const WARM = [0, 1];
const DEAD = 4;

let registry: RegistryProcess;
let registryEnv: Record<string, string>;
let scheduler: ChildHandle;
let dataDir: string;
let agentToken: string;
let beating: NodeJS.Timeout | undefined;

async function heartbeat(node: number): Promise<void> {
  const entries = WARM.includes(node) ? [{ project: 'sched', model: 'llama', version: 1, state: 'ready', bytesDone: MODEL_BYTES, bytesTotal: MODEL_BYTES }] : [];
  await supertest(registry.url).put(`/api/v1/nodes/${nodeName(node)}`).set(bearer(agentToken))
    .send({ labels: {}, capacityBytes: 100 * MODEL_BYTES, budgetBytes: 50 * MODEL_BYTES, usedBytes: 0, entries, demands: [] }).expect(200);
}

const extenderFilter = (names: string[]) =>
  supertest(registry.url).post('/api/v1/scheduler/filter').set(bearer(TOKEN))
    .send({ Pod: { metadata: { annotations: { 'wharf.dev/model-version': 'sched/llama@1' } } }, NodeNames: names });

const modelPod = (annotations: Record<string, string>) => ({
  metadata: { labels: { app: 'llama' }, annotations },
  spec: {
    schedulerName: 'wharf-scheduler',
    nodeSelector: pool(),
    containers: [{ name: 'server', image: 'wharf.test/idle', resources: { requests: { cpu: '100m' } } }],
  },
});

async function startScheduler(registryPort: number): Promise<ChildHandle> {
  const dir = join(dataDir, 'scheduler');
  const config = {
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    clientConnection: { kubeconfig: cluster.info.kubeconfig },
    leaderElection: { leaderElect: false },
    profiles: [{ schedulerName: 'wharf-scheduler' }],
    extenders: [{
      urlPrefix: `http://127.0.0.1:${registryPort}/api/v1/scheduler/t/${TOKEN}`,
      filterVerb: 'filter', prioritizeVerb: 'prioritize', weight: 1,
      // Generous: on a loaded CI machine a slow answer would be skipped (ignorable) and the test would see no extender.
      nodeCacheCapable: true, ignorable: true, httpTimeout: '15s',
    }],
  };
  writeFileSync(`${dir}.yaml`, JSON.stringify(config));
  return startChild({
    name: 'wharf-scheduler',
    command: join(cluster.info.binDir, 'kube-scheduler'),
    args: [`--config=${dir}.yaml`, `--authentication-kubeconfig=${cluster.info.kubeconfig}`, `--authorization-kubeconfig=${cluster.info.kubeconfig}`,
      '--bind-address=127.0.0.1', `--secure-port=${await freePort()}`, `--cert-dir=${dir}-certs`],
    env: {},
    // Readiness shows in the first pod it binds; nothing here to wait for.
    probe: async () => true,
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'wharf-cachesched-'));
  const port = await freePort();
  registryEnv = {
    PORT: String(port), DATA_DIR: join(dataDir, 'registry'), SCHEDULER_EXTENDER_TOKEN: TOKEN, NODE_READY_TIMEOUT_SECONDS: '3',
    SCHEDULER_MIN_MODEL_BYTES: '0', SCHEDULER_FULL_SCORE_BYTES: String(MODEL_BYTES), RATE_LIMIT_ENABLED: 'false',
  };
  registry = await startRegistryProcess(registryEnv, 60_000);
  await createProject(registry.url, 'sched');
  await createModel(registry.url, 'sched', 'llama');
  await publishVersion(registry.url, 'sched', 'llama', [{ path: 'weights.bin', data: bytes(MODEL_BYTES, 7) }]);
  agentToken = await nodeAgentToken(registry.url);
  await cluster.addNodes([0, 1, 2, 3, 4].map((i) => ({ name: nodeName(i), labels: pool() })));
  // Every agent reports once; then all but the dead node's keep beating, faster than the 3 s timeout.
  for (const i of [0, 1, 2, 3, 4]) await heartbeat(i);
  beating = setInterval(() => void Promise.all([0, 1, 2, 3].map(heartbeat)).catch(() => undefined), 700);
  await waitFor('the dead node\'s agent to count as silent', () => extenderFilter([nodeName(DEAD), nodeName(0)]),
    (response) => /silent/.test(response.body.FailedNodes?.[nodeName(DEAD)] ?? '') && response.body.NodeNames?.length === 1);
  scheduler = await startScheduler(port);
}, 120_000);

afterAll(async () => {
  if (beating) clearInterval(beating);
  await scheduler?.stop();
  await registry?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const nodesOf = (pods: V1Pod[]) => pods.map((pod) => pod.spec?.nodeName).filter((name): name is string => Boolean(name));
const count = (names: string[], name: string) => names.filter((n) => n === name).length;

it('sends the first replicas to the 2 warm nodes, spreads the rest, and never uses the node whose agent is silent', async () => {
  const { apps, core, namespace } = cluster;
  const template = modelPod({ 'wharf.dev/model-version': 'sched/llama@1' });
  await apps.createNamespacedDeployment({
    namespace,
    body: { metadata: { name: 'llama' }, spec: { replicas: 2, selector: { matchLabels: { app: 'llama' } }, template } },
  });
  const first = await waitFor('2 llama replicas bound', () => core.listNamespacedPod({ namespace, labelSelector: 'app=llama' }),
    (list) => nodesOf(list.items).length === 2, 60_000);
  expect(nodesOf(first.items).sort()).toEqual(WARM.map(nodeName).sort());

  await apps.patchNamespacedDeploymentScale(
    { namespace, name: 'llama', body: { spec: { replicas: 10 } } },
    cluster.k8s.setHeaderOptions('Content-Type', cluster.k8s.PatchStrategy.MergePatch),
  );
  const all = await waitFor('10 llama replicas bound', () => core.listNamespacedPod({ namespace, labelSelector: 'app=llama' }),
    (list) => nodesOf(list.items).length === 10, 60_000);
  const placed = nodesOf(all.items);
  expect(count(placed, nodeName(DEAD))).toBe(0);
  const warmCounts = WARM.map((i) => count(placed, nodeName(i)));
  const coldCounts = [2, 3].map((i) => count(placed, nodeName(i)));
  // Warm nodes hold the most replicas (with weight 1 and 10 replicas, all of them in practice:
  // PodTopologySpread's default skew does not outbid the extender's 70 points; docs/scheduling.md).
  expect(Math.min(...warmCounts)).toBeGreaterThanOrEqual(Math.max(...coldCounts));
  expect(warmCounts.every((n) => n >= 2)).toBe(true);
  console.log(`replicas per node (warm n0, n1 | cold n2, n3 | dead n4): ${[0, 1, 2, 3, 4].map((i) => count(placed, nodeName(i))).join(', ')}`);
});

it('keeps scheduling with the extender killed (ignorable), and uses it again once it is back', async () => {
  const { core, namespace } = cluster;
  // A pod naming a version that does not exist: the extender marks every node unresolvable.
  const missing = { 'wharf.dev/model-version': 'sched/llama@99' };
  const create = (name: string) => core.createNamespacedPod({ namespace, body: { ...modelPod(missing), metadata: { name, annotations: missing } } });
  const read = (name: string) => () => core.readNamespacedPod({ namespace, name });

  await create('refused-while-up');
  const refused = await waitFor('the extender to refuse pod refused-while-up', read('refused-while-up'),
    (pod) => pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && /wharf: version sched\/llama@99/.test(c.message ?? '')) ?? false, 60_000);
  expect(refused.spec?.nodeName).toBeUndefined();

  await registry.kill();
  await create('placed-while-down');
  const placed = await waitFor('pod placed-while-down bound without the extender', read('placed-while-down'), (pod) => Boolean(pod.spec?.nodeName), 60_000);
  expect(placed.spec?.nodeName).toMatch(new RegExp(`^${cluster.namespace}-n`));

  registry = await startRegistryProcess(registryEnv, 60_000);
  await create('refused-after-restart');
  await waitFor('the restarted extender to refuse pod refused-after-restart', read('refused-after-restart'),
    (pod) => pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && /wharf: version sched\/llama@99/.test(c.message ?? '')) ?? false, 60_000);
});
