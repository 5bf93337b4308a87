import { filterNodes, NodeCacheState, ScoringConfig, scoreNodes, VersionFacts } from './decisions';
import { extenderArgsSchema, nodeNamesOf } from './extender-api';
import { podModel } from './pod-model';

const GIB = 1024 ** 3;
const NOW = 1_000_000_000;
const config: ScoringConfig = { readyTimeoutMs: 60_000, minBytes: GIB / 4, maxBytes: 8 * GIB, spreadFloor: 0.5 };
const llama: VersionFacts = { id: 'v-llama', ref: 'nlp/llama@3', bytes: 30 * GIB };

function node(name: string, over: Partial<NodeCacheState> & { holds?: [string, 'ready' | 'pulling' | 'failed', number][] } = {}): NodeCacheState {
  const entries = new Map((over.holds ?? []).map(([id, state, done]) => [id, { state, bytesDone: done, bytesTotal: llama.bytes }]));
  return { name, budgetBytes: 40 * GIB, usedBytes: 0, lastHeartbeatMs: NOW - 1000, entries, ...over };
}

const fleet = (...nodes: NodeCacheState[]) => {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  return (name: string) => byName.get(name);
};

/** The body kube-scheduler posts with nodeCacheCapable: true (k8s.io/kube-scheduler/extender/v1 ExtenderArgs). */
const schedulerBody = {
  Pod: {
    metadata: { name: 'llama-7f9c-x2', namespace: 'nlp', uid: 'c0ffee', annotations: { 'wharf.dev/model-version': 'nlp/llama@3', 'wharf.dev/cache-policy': 'require' } },
    spec: { containers: [{ name: 'server', image: 'vllm' }] },
  },
  Nodes: null,
  NodeNames: ['warm', 'cold', 'full'],
};

describe('extender wire format', () => {
  it('reads ExtenderArgs as kube-scheduler sends them, by Go field names, with either node shape', () => {
    const args = extenderArgsSchema.parse(schedulerBody);
    expect(nodeNamesOf(args)).toEqual(['warm', 'cold', 'full']);
    const withNodes = extenderArgsSchema.parse({ Pod: schedulerBody.Pod, Nodes: { items: [{ metadata: { name: 'a' } }] } });
    expect(nodeNamesOf(withNodes)).toEqual(['a']);
    expect(podModel(args.Pod.metadata.annotations)).toEqual({ kind: 'model', model: { project: 'nlp', model: 'llama', version: 3, policy: 'require' } });
  });

  it.each([
    ['no Pod', { NodeNames: ['a'] }],
    ['no nodes in either shape', { Pod: schedulerBody.Pod }],
    ['lower-case keys (not the Go names)', { pod: schedulerBody.Pod, nodenames: ['a'] }],
    ['a node name that is not a string', { Pod: schedulerBody.Pod, NodeNames: [7] }],
  ])('refuses ExtenderArgs with %s', (_label, body) => {
    expect(extenderArgsSchema.safeParse(body).success).toBe(false);
  });

  it.each([
    [{}, { kind: 'none' }],
    [{ 'wharf.dev/model-version': 'nlp/llama:prod' }, { kind: 'invalid' }],
    [{ 'wharf.dev/model-version': 'nlp/llama@0' }, { kind: 'invalid' }],
    [{ 'wharf.dev/model-version': 'nlp/llama@3', 'wharf.dev/cache-policy': 'always' }, { kind: 'invalid' }],
    [{ 'wharf.dev/model-version': 'nlp/llama@3' }, { kind: 'model', model: { project: 'nlp', model: 'llama', version: 3, policy: 'prefer' } }],
  ])('reads the pod annotations %j', (annotations, expected) => {
    expect(podModel(annotations)).toMatchObject(expected);
  });
});

describe('filterNodes', () => {
  const warm = node('warm', { usedBytes: 35 * GIB, holds: [['v-llama', 'ready', llama.bytes]] });
  const cold = node('cold', { usedBytes: 5 * GIB });
  const full = node('full', { usedBytes: 20 * GIB });
  const silent = node('silent', { lastHeartbeatMs: NOW - 61_000 });
  const partial = node('partial', { usedBytes: 30 * GIB, holds: [['v-llama', 'pulling', 25 * GIB]] });
  const lookup = fleet(warm, cold, full, silent, partial);

  it.each([
    ['prefer: budget decides, the warm node passes though nearly full', 'prefer', ['warm', 'cold', 'full'], ['warm', 'cold'], { full: /needs 30.0 GiB of cache, node has 20.0 GiB free/ }],
    ['require: only the node holding it ready passes', 'require', ['warm', 'cold'], ['warm'], { cold: /cache-policy require: nlp\/llama@3 is not ready on this node/ }],
    ['require with no warm node: budget alone decides and says so', 'require', ['cold', 'full'], ['cold'], { full: /no node holds it yet, so budget alone decides/ }],
    ['a silent agent fails whatever it holds', 'prefer', ['silent', 'cold'], ['cold'], { silent: /silent for 61 s \(limit 60 s\)/ }],
    ['a node no agent reported from fails', 'prefer', ['ghost'], [], { ghost: /no Wharf node agent has reported/ }],
    ['a partial pull needs only its remaining bytes', 'prefer', ['partial'], ['partial'], {}],
  ] as const)('%s', (_label, policy, names, passed, failed) => {
    const outcome = filterNodes(names, lookup, llama, policy, NOW, config);
    expect(outcome.passed).toEqual(passed);
    expect(Object.keys(outcome.failed).sort()).toEqual(Object.keys(failed).sort());
    for (const [name, pattern] of Object.entries(failed)) expect(outcome.failed[name]).toMatch(pattern);
  });

  it('counts bytes reserved for models being placed against the budget', () => {
    const outcome = filterNodes(['cold'], lookup, llama, 'prefer', NOW, config, () => 10 * GIB);
    expect(outcome.passed).toEqual([]);
    expect(outcome.failed.cold).toMatch(/10.0 GiB of it reserved/);
  });
});

describe('scoreNodes', () => {
  const ready = (name: string) => node(name, { holds: [['v-llama', 'ready', llama.bytes]] });
  const half = (name: string) => node(name, { holds: [['v-llama', 'pulling', llama.bytes / 2]] });
  const failed = (name: string) => node(name, { holds: [['v-llama', 'failed', llama.bytes]] });

  it.each([
    ['2 warm of 5: warm nodes score 10 × (0.5 + 0.5 × 2/5) = 7, cold 0', [ready('a'), ready('b'), node('c'), node('d'), node('e')], llama, [7, 7, 0, 0, 0]],
    ['a pull counts by its progress', [ready('a'), half('b'), node('c'), node('d')], llama, [8, 4, 0, 0]],
    ['held everywhere: full score everywhere', [ready('a'), ready('b')], llama, [10, 10]],
    ['one warm node of 10 keeps only the floor share', [ready('a'), ...'bcdefghij'.split('').map((n) => node(n))], llama, [6, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['a failed entry is worth nothing', [failed('a'), node('b')], llama, [0, 0]],
    ['a small model earns nothing from locality', [ready('a'), node('b')], { ...llama, bytes: 100 * 1024 ** 2 }, [0, 0]],
    ['a mid-size model earns part of the score', [ready('a'), ready('b')], { ...llama, bytes: 4 * GIB }, [5, 5]],
  ] as const)('%s', (_label, nodes, version, scores) => {
    const result = scoreNodes(nodes.map((n) => n.name), fleet(...nodes), version, config);
    expect(result).toEqual(nodes.map((n, i) => ({ Host: n.name, Score: scores[i] })));
    for (const { Score } of result) expect(Number.isInteger(Score) && Score >= 0 && Score <= 10).toBe(true);
  });

  it('scores a node no agent reported from 0', () => {
    expect(scoreNodes(['ghost'], fleet(), llama, config)).toEqual([{ Host: 'ghost', Score: 0 }]);
  });
});
