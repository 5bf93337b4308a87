import type { V1Container } from '@kubernetes/client-node';
import { withDefaults } from './admission/defaults';
import { buildDeployment, buildService, prune, type PodSettings, type ResolvedRoute } from './desired';
import type { ModelDeployment } from './model-deployment';

const settings: PodSettings = { cacheDir: '/var/cache/wharf', agentPort: 7070, initImage: 'busybox:1.37', executorImage: 'wharf/executor:1', executorPort: 8000 };
const DIGEST = `sha256:${'b'.repeat(64)}`;

function md(spec: object = {}): ModelDeployment {
  return {
    apiVersion: 'wharf.dev/v1alpha1', kind: 'ModelDeployment',
    metadata: { name: 'resnet', namespace: 'vision', uid: 'uid-1', generation: 3 },
    spec: withDefaults({ model: 'resnet50:prod', runtime: { image: 'acme/server:1', port: 9000 } as never, ...spec }, 'vision'),
  };
}

const route = (overrides: Partial<ResolvedRoute> = {}): ResolvedRoute => ({
  route: { name: 'main', model: 'vision/resnet50:prod', weight: 100 }, project: 'vision', model: 'resnet50', version: 7, digest: DIGEST, bytes: 1234, replicas: 3, ...overrides,
});

const container = (deployment: ReturnType<typeof buildDeployment>, name: string) =>
  [...deployment.spec!.template.spec!.containers, ...(deployment.spec!.template.spec!.initContainers ?? [])].find((c) => c.name === name) as V1Container;

describe('buildDeployment', () => {
  it.each<[string, object, (d: ReturnType<typeof buildDeployment>) => unknown, unknown]>([
    ['names it <name>-<route>', {}, (d) => d.metadata!.name, 'resnet-main'],
    ['owns it by the ModelDeployment', {}, (d) => d.metadata!.ownerReferences, [{ apiVersion: 'wharf.dev/v1alpha1', kind: 'ModelDeployment', name: 'resnet', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]],
    ['keeps the runtime image unchanged', {}, (d) => container(d, 'runtime').image, 'acme/server:1'],
    ['mounts the version read-only from the cache', {}, (d) => container(d, 'runtime').volumeMounts,
      [{ name: 'model-cache', mountPath: '/mnt/models', subPath: 'versions/vision/resnet50/7', readOnly: true }]],
    ['mounts the node cache as a hostPath', {}, (d) => d.spec!.template.spec!.volumes, [{ name: 'model-cache', hostPath: { path: '/var/cache/wharf', type: 'Directory' } }]],
    ['waits on the node agent for this version', {}, (d) => container(d, 'wait-for-model').command![2].includes('http://$HOST_IP:7070/v1/versions/vision/resnet50/7?wait=60s'), true],
    ['puts the executor first, pointing at the runtime port', {}, (d) => [d.spec!.template.spec!.containers[0].name, container(d, 'executor').env!.find((e) => e.name === 'EXECUTOR_UPSTREAM_URL')!.value], ['executor', 'http://127.0.0.1:9000']],
    ['passes the executor settings', { executor: { mode: 'async', concurrency: 3, timeoutSeconds: 30, auth: 'token' } },
      (d) => Object.fromEntries(container(d, 'executor').env!.map((e) => [e.name, e.value])),
      expect.objectContaining({ EXECUTOR_MODE: 'async', EXECUTOR_CONCURRENCY: '3', EXECUTOR_TIMEOUT_SECONDS: '30', EXECUTOR_AUTH: 'token' })],
    ['annotates the pods for the scheduler extender', { cache: { policy: 'require' } }, (d) => d.spec!.template.metadata!.annotations,
      { 'wharf.dev/model-reference': 'vision/resnet50@7', 'wharf.dev/version-digest': DIGEST, 'wharf.dev/version-bytes': '1234', 'wharf.dev/cache-policy': 'require', 'wharf.dev/requested-reference': 'vision/resnet50:prod' }],
    ['sets the apportioned replicas', {}, (d) => d.spec!.replicas, 3],
    ['copies nodeSelector and tolerations', { nodeSelector: { gpu: 'a100' }, tolerations: [{ key: 'gpu', operator: 'Exists' }] },
      (d) => [d.spec!.template.spec!.nodeSelector, d.spec!.template.spec!.tolerations], [{ gpu: 'a100' }, [{ key: 'gpu', operator: 'Exists' }]]],
    ['probes readiness on the runtime only when asked', {}, (d) => container(d, 'runtime').readinessProbe, undefined],
    ['rolls with no pod unavailable', {}, (d) => d.spec!.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }],
  ])('%s', (_what, spec, pick, expected) => {
    expect(pick(prune(buildDeployment(md(spec), route(), settings)))).toEqual(expected);
  });

  it('changes the pod template (so the Deployment rolls) exactly when the version changes', () => {
    const template = (version: number) => JSON.stringify(buildDeployment(md(), route({ version }), settings).spec!.template);
    expect(template(7)).toBe(template(7));
    expect(template(8)).not.toBe(template(7));
  });

  it('selects by ModelDeployment and route, so routes never adopt each other\'s pods', () => {
    const canary = buildDeployment(md(), route({ route: { name: 'canary', model: 'vision/resnet50@8', weight: 10 } }), settings);
    expect(canary.spec!.selector.matchLabels).toEqual({ 'wharf.dev/model-deployment': 'resnet', 'wharf.dev/route': 'canary' });
  });
});

describe('buildService', () => {
  it('selects every route of the ModelDeployment on the executor port', () => {
    const service = buildService(md());
    expect(service.spec).toEqual({ selector: { 'wharf.dev/model-deployment': 'resnet' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] });
    expect(service.metadata!.ownerReferences![0].uid).toBe('uid-1');
  });
});
