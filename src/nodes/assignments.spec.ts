import { assignmentsFor, Demand, EntryState, matchesLabels, NodeView, placeWarmup, VersionTarget, WarmupTarget } from './assignments';

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

describe('placeWarmup on an empty warm-up', () => {
  const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'].map((name) => node(name, {}));

  it('is deterministic and independent of the order nodes are listed in', () => {
    const chosen = placeWarmup(warmup('w', {}, v1, 2), [], nodes).chosen;
    expect(chosen).toHaveLength(2);
    expect(placeWarmup(warmup('w', {}, v1, 2), [], [...nodes].reverse()).chosen).toEqual(chosen);
  });

  it('prefers nodes that already hold the version, ready before pulling', () => {
    const holders = [node('n1', {}), node('n2', {}, { 'vision/resnet@1': 'pulling' }), node('n3', {}), node('n4', {}, { 'vision/resnet@1': 'ready' })];
    expect(placeWarmup(warmup('w', {}, v1, 2), [], holders).chosen).toEqual(['n4', 'n2']);
  });

  it('does not prefer a node whose copy failed or is being evicted', () => {
    const chosen = placeWarmup(warmup('w', {}, v1, 1), [], [node('n1', {}, { 'vision/resnet@1': 'failed' }), node('n2', {}, { 'vision/resnet@1': 'ready' })]).chosen;
    expect(chosen).toEqual(['n2']);
  });

  it('spreads different warm-ups over different nodes', () => {
    const firsts = new Set(Array.from({ length: 20 }, (_, i) => placeWarmup(warmup(`w${i}`, {}, v1, 1), [], nodes).chosen[0]));
    expect(firsts.size).toBeGreaterThan(1);
  });

  it('chooses every eligible node without maxNodes, and places by hash alone without a target', () => {
    expect(placeWarmup(warmup('w', {}, v1), [], nodes).chosen).toHaveLength(5);
    expect(placeWarmup(warmup('w', {}, null, 2), [], nodes).chosen).toHaveLength(2);
  });
});

describe('assignmentsFor', () => {
  const a100a = node('a100-a', { gpu: 'a100' });
  const t4 = node('t4', { gpu: 't4' });
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
    const result = assignmentsFor(self, warmups, new Set(), demands);
    expect(result.map(({ version, reasons }) => ({ version, reasons }))).toEqual(expected);
  });

  it('assigns a capped warm-up only to the nodes it was placed on', () => {
    const w = [warmup('w', { gpu: 'a100' }, v1, 1)];
    expect(assignmentsFor(a100a, w, new Set(), [])).toEqual([]);
    expect(assignmentsFor(a100a, w, new Set(['w']), []).map(({ version, reasons }) => ({ version, reasons }))).toEqual([{ version: 1, reasons: ['warmup:w'] }]);
    expect(assignmentsFor(t4, w, new Set(['w']), [])).toEqual([]);
  });
});

describe('placeWarmup', () => {
  const fleet = Array.from({ length: 20 }, (_, i) => node(`n${String(i).padStart(2, '0')}`, { gpu: 'a100' }));
  const capped = (id: string, maxNodes = 3) => warmup(id, { gpu: 'a100' }, v1, maxNodes);

  it('fills an empty warm-up with exactly maxNodes nodes, preferring a holder', () => {
    const holder = node('n07', { gpu: 'a100' }, { 'vision/resnet@1': 'ready' });
    const eligible = fleet.map((n) => (n.name === 'n07' ? holder : n));
    const placement = placeWarmup(capped('w', 3), [], eligible);
    expect(placement.chosen).toHaveLength(3);
    expect(placement.chosen[0]).toBe('n07');
    expect(placement.removed).toEqual([]);
  });

  it('keeps every node still eligible and replaces only the one that left', () => {
    const before = placeWarmup(capped('w'), [], fleet).chosen;
    const gone = before[1];
    const after = placeWarmup(capped('w'), before, fleet.filter((n) => n.name !== gone));
    expect(after.removed).toEqual([gone]);
    expect(after.added).toHaveLength(1);
    expect(after.chosen.filter((name) => before.includes(name)).sort()).toEqual(before.filter((name) => name !== gone).sort());
  });

  it('moves nothing when a node joins a warm-up that is full', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `w${i}`);
    const before = new Map(ids.map((id) => [id, placeWarmup(capped(id), [], fleet).chosen]));
    const grown = [...fleet, node('n99', { gpu: 'a100' })];
    for (const id of ids) expect(placeWarmup(capped(id), before.get(id)!, grown)).toEqual({ chosen: before.get(id), added: [], removed: [] });
  });

  it('moves a place to a node that already holds the version ready, never away from one', () => {
    const [first, second] = placeWarmup(capped('w', 2), [], fleet).chosen;
    const holder = fleet.find((n) => n.name !== first && n.name !== second)!;
    const eligible = fleet.map((n) => (n === holder ? node(n.name, n.labels, { 'vision/resnet@1': 'ready' }) : n));
    const moved = placeWarmup(capped('w', 2), [first, second], eligible);
    expect(moved.added).toEqual([holder.name]);
    expect(moved.removed).toHaveLength(1);
    expect(placeWarmup(capped('w', 2), moved.chosen, eligible)).toEqual({ chosen: moved.chosen, added: [], removed: [] });
  });

  it('spreads the share of a leaving node over the others', () => {
    const ids = Array.from({ length: 200 }, (_, i) => `w${i}`);
    const holding = ids.filter((id) => placeWarmup(capped(id), [], fleet).chosen.includes('n00'));
    // 200 warm-ups × 3 nodes over 20 nodes: about 30 hold n00.
    expect(holding.length).toBeGreaterThan(10);
    expect(holding.length).toBeLessThan(60);
    const takers = new Set(holding.flatMap((id) => placeWarmup(capped(id), placeWarmup(capped(id), [], fleet).chosen, fleet.slice(1)).added));
    expect(takers.size).toBeGreaterThan(3);
  });

  it('drops nodes that no longer match and places an unresolved warm-up by hash alone', () => {
    expect(placeWarmup(capped('w'), ['gone-1', 'gone-2'], [])).toEqual({ chosen: [], added: [], removed: ['gone-1', 'gone-2'] });
    expect(placeWarmup(warmup('w', {}, null, 2), [], fleet).added).toHaveLength(2);
  });
});
