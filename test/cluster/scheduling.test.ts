// Smoke test of the test cluster's scheduling path: kube-controller-manager turns a Deployment into
// pods, kube-scheduler binds them to kwok's fake nodes by labels and capacities, kwok runs them.
import type { V1Pod } from '@kubernetes/client-node';
import { useCluster, waitFor } from '../support/cluster';

const cluster = useCluster('scheduling');
// Nodes are cluster-wide: a label of this file's own keeps other files' nodes out of its pods' way.
const pool = () => ({ 'wharf.test/pool': cluster.namespace });

const isRunning = (pod: V1Pod) => pod.status?.phase === 'Running';

function gpuPod(name: string, gpus: string): V1Pod {
  return {
    metadata: { name },
    spec: {
      nodeSelector: pool(),
      containers: [{ name: 'main', image: 'wharf.test/idle', resources: { limits: { 'nvidia.com/gpu': gpus } } }],
    },
  };
}

beforeAll(async () => {
  await cluster.addNodes([
    { name: `${cluster.namespace}-cpu-a`, labels: { ...pool(), 'wharf.test/tier': 'cpu' } },
    { name: `${cluster.namespace}-cpu-b`, labels: { ...pool(), 'wharf.test/tier': 'cpu' } },
    { name: `${cluster.namespace}-other`, labels: { ...pool(), 'wharf.test/tier': 'other' } },
    {
      name: `${cluster.namespace}-gpu`,
      labels: { ...pool(), 'wharf.test/tier': 'gpu' },
      capacity: { 'nvidia.com/gpu': '2' },
    },
  ]);
});

it('binds the 3 pods of a Deployment with a nodeSelector to matching nodes and runs them', async () => {
  const { apps, core, namespace } = cluster;
  const labels = { app: 'web' };
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 3,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            nodeSelector: { ...pool(), 'wharf.test/tier': 'cpu' },
            containers: [{ name: 'main', image: 'wharf.test/idle', resources: { requests: { cpu: '100m' } } }],
          },
        },
      },
    },
  });

  const pods = await waitFor(
    'the 3 pods of Deployment web Running',
    () => core.listNamespacedPod({ namespace, labelSelector: 'app=web' }),
    (list) => list.items.length === 3 && list.items.every(isRunning),
  );
  const cpuNodes = [`${namespace}-cpu-a`, `${namespace}-cpu-b`];
  for (const pod of pods.items) expect(cpuNodes).toContain(pod.spec?.nodeName);
  const deployment = await waitFor(
    'Deployment web reporting 3 ready replicas',
    () => apps.readNamespacedDeployment({ namespace, name: 'web' }),
    (d) => d.status?.readyReplicas === 3,
  );
  expect(deployment.status?.availableReplicas).toBe(3);
});

it('places a pod asking for one GPU on the GPU node only', async () => {
  const { core, namespace } = cluster;
  await core.createNamespacedPod({ namespace, body: gpuPod('one-gpu', '1') });

  const pod = await waitFor('pod one-gpu Running', () => core.readNamespacedPod({ namespace, name: 'one-gpu' }), isRunning);
  expect(pod.spec?.nodeName).toBe(`${namespace}-gpu`);
});

it('leaves a pod asking for more GPUs than any node has Pending, with the scheduler saying why', async () => {
  const { core, namespace } = cluster;
  await core.createNamespacedPod({ namespace, body: gpuPod('many-gpus', '8') });

  const pod = await waitFor(
    'pod many-gpus marked unschedulable',
    () => core.readNamespacedPod({ namespace, name: 'many-gpus' }),
    (p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable') ?? false,
  );
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  expect(pod.status?.phase).toBe('Pending');
  expect(pod.spec?.nodeName).toBeUndefined();
  expect(scheduled?.status).toBe('False');
  expect(scheduled?.message).toContain('Insufficient nvidia.com/gpu');
});
