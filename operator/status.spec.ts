import type { V1Deployment } from '@kubernetes/client-node';
import { withDefaults } from './admission/defaults';
import type { ResolvedRoute } from './desired';
import type { ModelDeployment } from './model-deployment';
import { failedStatus, resolvedStatus, rolledOut } from './status';

const md = (status?: ModelDeployment['status'], cache = 'prefer'): ModelDeployment => ({
  metadata: { name: 'r', namespace: 'v', generation: 4 },
  spec: withDefaults({ model: 'v/m:prod', runtime: { image: 'x' } as never, cache: { policy: cache } as never }, 'v'),
  status,
});
const route: ResolvedRoute = { route: { name: 'main', model: 'v/m:prod', weight: 100 }, project: 'v', model: 'm', version: 2, digest: 'sha256:d', bytes: 5, replicas: 2 };
const deployment = (status: object, generation = 1, replicas = 2): V1Deployment => ({ metadata: { generation }, spec: { replicas } as never, status });
const done = { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 };

describe('rolledOut', () => {
  it.each<[string, V1Deployment | undefined, boolean]>([
    ['all replicas updated and available', deployment(done), true],
    ['the controller has not seen the new template', deployment(done, 2), false],
    ['an old pod still runs', deployment({ ...done, replicas: 3 }), false],
    ['a new pod is not available yet', deployment({ ...done, availableReplicas: 1 }), false],
    ['no Deployment', undefined, false],
  ])('%s → %s', (_what, input, expected) => {
    expect(rolledOut(input)).toBe(expected);
  });
});

const conditionMap = (status: ReturnType<typeof resolvedStatus>) => Object.fromEntries(status.conditions!.map((c) => [c.type, `${c.status}/${c.reason}`]));

describe('resolvedStatus', () => {
  it.each<[string, V1Deployment, string, Record<string, string>]>([
    ['rolled out', deployment(done), 'prefer', { Ready: 'True/Available', Progressing: 'False/RolledOut', CacheWarm: 'True/ServedFromCache', ModelResolved: 'True/Resolved', Degraded: 'False/AsExpected' }],
    ['rolling', deployment({ ...done, availableReplicas: 1 }), 'prefer', { Ready: 'False/RollingOut', Progressing: 'True/RollingOut', CacheWarm: 'Unknown/Waiting', ModelResolved: 'True/Resolved', Degraded: 'False/AsExpected' }],
    ['rolling, no cache policy', deployment({ ...done, availableReplicas: 1 }), 'none', expect.objectContaining({ CacheWarm: 'True/NotRequired' })],
  ])('%s', (_what, current, cache, expected) => {
    const status = resolvedStatus(md(undefined, cache), [route], [current]);
    expect(conditionMap(status)).toEqual(expected);
    expect(status).toMatchObject({ observedGeneration: 4, version: 'v/m@2', replicas: 2, routes: [{ name: 'main', version: 2, digest: 'sha256:d', bytes: 5 }] });
    expect(status.conditions!.every((c) => c.observedGeneration === 4)).toBe(true);
  });
});

describe('failedStatus', () => {
  it('keeps Ready and the routes when the registry is down: pods still serve', () => {
    const serving = resolvedStatus(md(), [route], [deployment(done)]);
    const failed = failedStatus(md(serving), 'RegistryUnavailable', 'the registry is unreachable', false);
    expect(conditionMap(failed as never)).toMatchObject({ Ready: 'True/Available', Degraded: 'True/RegistryUnavailable', ModelResolved: 'Unknown/RegistryUnavailable' });
    expect(failed.routes).toEqual(serving.routes);
  });

  it('reports a terminal failure of a new ModelDeployment as not Ready', () => {
    const failed = failedStatus(md(), 'TagNotFound', 'no tag prod', true);
    expect(conditionMap(failed as never)).toEqual({ Ready: 'False/TagNotFound', Degraded: 'True/TagNotFound', ModelResolved: 'False/TagNotFound' });
  });
});
