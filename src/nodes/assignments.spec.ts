import { assignmentsFor, chooseNodes, Demand, EntryState, matchesLabels, NodeView, VersionTarget, WarmupTarget } from './assignments';

const v1: VersionTarget = { project: 'vision', model: 'resnet', version: 1, manifestDigest: `sha256:${'1'.repeat(64)}` };
const v2: VersionTarget = { project: 'vision', model: 'resnet', version: 2, manifestDigest: `sha256:${'2'.repeat(64)}` };

function node(name: string, labels: Record<string, string>, holds: Record<string, EntryState> = {}): NodeView {
  return { name, labels, holds: new Map(Object.entries(holds)) };
}

function warmup(id: string, matchLabels: Record<string, string>, target: VersionTarget | null, maxNodes: number | null = null): WarmupTarget {
  return { id, matchLabels, target, maxNodes };
}

describe('matchesLabels', () => {
  it.each([
    [{ gpu: 'a100' }, { gpu: 'a100' }, true],
    [{ gpu: 'a100', zone: 'a' }, { gpu: 'a100' }, true],
    [{ gpu: 't4' }, { gpu: 'a100' }, false],
    [{}, { gpu: 'a100' }, false],
    [{ gpu: 'a100' }, {}, true],
    [{ gpu: 'a100' }, { gpu: 'a100', zone: 'a' }, false],
    [{ toString: 'x' }, { constructor: 'x' }, false],
  ])('labels %j against %j → %s', (labels, selector, expected) => {
    expect(matchesLabels(labels, selector)).toBe(expected);
  });
});

describe('chooseNodes', () => {
  const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'].map((name) => node(name, {}));

  it('is deterministic and independent of the order nodes are listed in', () => {
    const chosen = chooseNodes(warmup('w', {}, v1, 2), nodes);
    expect(chosen).toHaveLength(2);
    expect(chooseNodes(warmup('w', {}, v1, 2), [...nodes].reverse())).toEqual(chosen);
  });

  it('prefers nodes that already hold the version, ready before pulling', () => {
    const holders = [node('n1', {}), node('n2', {}, { 'vision/resnet@1': 'pulling' }), node('n3', {}), node('n4', {}, { 'vision/resnet@1': 'ready' })];
    expect(chooseNodes(warmup('w', {}, v1, 2), holders)).toEqual(['n4', 'n2']);
  });

  it('does not prefer a node whose copy failed or is being evicted', () => {
    const chosen = chooseNodes(warmup('w', {}, v1, 1), [node('n1', {}, { 'vision/resnet@1': 'failed' }), node('n2', {}, { 'vision/resnet@1': 'ready' })]);
    expect(chosen).toEqual(['n2']);
  });

  it('spreads different warm-ups over different nodes', () => {
    const firsts = new Set(Array.from({ length: 20 }, (_, i) => chooseNodes(warmup(`w${i}`, {}, v1, 1), nodes)[0]));
    expect(firsts.size).toBeGreaterThan(1);
  });

  it('chooses every eligible node without maxNodes and none without a target', () => {
    expect(chooseNodes(warmup('w', {}, v1), nodes)).toHaveLength(5);
    expect(chooseNodes(warmup('w', {}, null, 2), nodes)).toEqual([]);
  });
});

describe('assignmentsFor', () => {
  const a100a = node('a100-a', { gpu: 'a100' });
  const a100b = node('a100-b', { gpu: 'a100' });
  const t4 = node('t4', { gpu: 't4' });
  const cluster = [a100a, a100b, t4];
  const request: Demand = { target: v2, reason: 'request' };
  const lease: Demand = { target: v2, reason: 'lease' };

  it.each<[string, NodeView, WarmupTarget[], Demand[], { version: number; reasons: string[] }[]]>([
    ['a matching warm-up assigns its version', a100a, [warmup('w', { gpu: 'a100' }, v1)], [], [{ version: 1, reasons: ['warmup:w'] }]],
    ['a warm-up for other labels assigns nothing', t4, [warmup('w', { gpu: 'a100' }, v1)], [], []],
    ['an unresolved warm-up assigns nothing', a100a, [warmup('w', { gpu: 'a100' }, null)], [], []],
    ['a demand is assigned whatever the warm-ups say', t4, [], [request], [{ version: 2, reasons: ['request'] }]],
    [
      'reasons for one version are merged',
      a100a,
      [warmup('w1', {}, v2), warmup('w2', { gpu: 'a100' }, v2)],
      [lease, request],
      [{ version: 2, reasons: ['lease', 'request', 'warmup:w1', 'warmup:w2'] }],
    ],
    [
      'several versions are listed in order',
      a100a,
      [warmup('w2', {}, v2), warmup('w1', {}, v1)],
      [],
      [
        { version: 1, reasons: ['warmup:w1'] },
        { version: 2, reasons: ['warmup:w2'] },
      ],
    ],
  ])('%s', (_, self, warmups, demands, expected) => {
    const result = assignmentsFor(self, warmups, cluster, demands);
    expect(result.map(({ version, reasons }) => ({ version, reasons }))).toEqual(expected);
  });

  it('under maxNodes assigns the version to exactly that many matching nodes, preferring a holder', () => {
    const holder = node('a100-b', { gpu: 'a100' }, { 'vision/resnet@1': 'ready' });
    const nodes = [a100a, holder, t4, node('a100-c', { gpu: 'a100' })];
    const w = [warmup('w', { gpu: 'a100' }, v1, 1)];
    const assigned = nodes.filter((self) => assignmentsFor(self, w, nodes, []).length > 0).map((self) => self.name);
    expect(assigned).toEqual(['a100-b']);
  });

  it('counts the calling node as eligible even when it is not yet in the node list', () => {
    const fresh = node('fresh', { gpu: 'a100' });
    expect(assignmentsFor(fresh, [warmup('w', { gpu: 'a100' }, v1, 5)], [a100a], [])).toHaveLength(1);
  });
});
