// The extender's HTTP verbs against a whole registry (real Postgres, real HTTP): kube-scheduler's
// JSON in and out, state fed by heartbeats through PUT /api/v1/nodes/{node} and seen through the
// nodes trigger's NOTIFY, the caller's token, and bad input refused with a 4xx.
import supertest from 'supertest';
import { eventually } from '../support/eventually';
import { createModel, createProject, expectProblem } from '../support/fixtures';
import { bytes, nodeAgentToken, publishVersion } from '../support/node-cache';
import { bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

const TOKEN = 'scheduler_test_token_0123456789';
const MODEL_BYTES = 64 * 1024;
let registry: TestRegistry;
let agentToken: string;
let version: number;

const pod = (annotations: Record<string, string> = { 'wharf.dev/model-version': `nlp/llama@${version}` }) => ({
  metadata: { name: 'llama-0', namespace: 'nlp', uid: 'u-1', annotations },
  spec: { containers: [{ name: 'server', image: 'vllm' }] },
});

function heartbeat(node: string, over: { budgetBytes?: number; usedBytes?: number; ready?: boolean; pulled?: number } = {}) {
  const entries = over.ready
    ? [{ project: 'nlp', model: 'llama', version, state: 'ready', bytesDone: MODEL_BYTES, bytesTotal: MODEL_BYTES }]
    : over.pulled !== undefined
      ? [{ project: 'nlp', model: 'llama', version, state: 'pulling', bytesDone: over.pulled, bytesTotal: MODEL_BYTES }]
      : [];
  return registry.http.put(`/api/v1/nodes/${node}`).set(bearer(agentToken)).send({
    labels: {}, capacityBytes: 10 * MODEL_BYTES, budgetBytes: over.budgetBytes ?? 4 * MODEL_BYTES, usedBytes: over.usedBytes ?? 0, entries, demands: [],
  }).expect(200);
}

const filter = (body: object, auth: Record<string, string> = bearer(TOKEN)) => registry.http.post('/api/v1/scheduler/filter').set(auth).send(body);
const prioritize = (body: object) => registry.http.post('/api/v1/scheduler/prioritize').set(bearer(TOKEN)).send(body);

beforeAll(async () => {
  registry = await startTestRegistry({ SCHEDULER_EXTENDER_TOKEN: TOKEN, SCHEDULER_MIN_MODEL_BYTES: '0', SCHEDULER_FULL_SCORE_BYTES: String(MODEL_BYTES) });
  await createProject(registry, 'nlp');
  await createModel(registry, 'nlp', 'llama');
  version = await publishVersion(registry.url, 'nlp', 'llama', [{ path: 'weights.bin', data: bytes(MODEL_BYTES, 1) }]);
  agentToken = await nodeAgentToken(registry.url);
  await heartbeat('warm-a', { ready: true });
  await heartbeat('warm-b', { ready: true });
  await heartbeat('cold', {});
  await heartbeat('full', { budgetBytes: MODEL_BYTES, usedBytes: MODEL_BYTES / 2 });
  // The index learns of heartbeats by NOTIFY after they commit: wait for the last one.
  await eventually(async () => (await filter({ Pod: pod(), NodeNames: ['full'] })).body.FailedNodes?.full?.includes('needs'), 'the index to see node full', { timeoutMs: 10_000 });
}, 60_000);

afterAll(() => registry?.close());

it('filters in kube-scheduler JSON: nodes without budget or without an agent fail with a reason', async () => {
  const response = await filter({ Pod: pod(), NodeNames: ['warm-a', 'warm-b', 'cold', 'full', 'ghost'] }).expect(200);
  expect(response.body).toEqual({
    NodeNames: ['warm-a', 'warm-b', 'cold'],
    FailedNodes: { full: expect.stringMatching(/needs .* of cache, node has .* free/), ghost: expect.stringMatching(/no Wharf node agent/) },
    FailedAndUnresolvableNodes: {},
    Error: '',
  });
});

it('under require, only the nodes holding the version ready pass', async () => {
  const body = { Pod: pod({ 'wharf.dev/model-version': `nlp/llama@${version}`, 'wharf.dev/cache-policy': 'require' }), NodeNames: ['warm-a', 'cold', 'warm-b'] };
  const response = await filter(body).expect(200);
  expect(response.body.NodeNames).toEqual(['warm-a', 'warm-b']);
  expect(response.body.FailedNodes.cold).toMatch(/cache-policy require/);
});

it('prioritizes the warm nodes as a HostPriorityList with scores 0–10', async () => {
  const response = await prioritize({ Pod: pod(), NodeNames: ['warm-a', 'warm-b', 'cold', 'full', 'ghost'] }).expect(200);
  // 2 of 5 hold it: 10 × (0.5 + 0.5 × 2/5) = 7.
  expect(response.body).toEqual([
    { Host: 'warm-a', Score: 7 }, { Host: 'warm-b', Score: 7 }, { Host: 'cold', Score: 0 }, { Host: 'full', Score: 0 }, { Host: 'ghost', Score: 0 },
  ]);
});

it('sees a heartbeat at once through the NOTIFY: a pull in progress scores by its progress, then ready scores fully', async () => {
  await heartbeat('cold', { pulled: MODEL_BYTES / 2 });
  await eventually(async () => (await prioritize({ Pod: pod(), NodeNames: ['cold', 'warm-a'] })).body[0].Score === 5, 'the half-done pull to count half (10 × 1/2 × (0.5 + 0.5 × 2/2) = 5)', { timeoutMs: 10_000 });
  await heartbeat('cold', { ready: true });
  await eventually(async () => (await prioritize({ Pod: pod(), NodeNames: ['cold', 'warm-a'] })).body[0].Score === 10, 'the ready entry to count', { timeoutMs: 10_000 });
});

it('passes pods without a Wharf annotation through untouched, every node scored 0', async () => {
  const names = ['warm-a', 'ghost'];
  expect((await filter({ Pod: pod({}), NodeNames: names }).expect(200)).body).toMatchObject({ NodeNames: names, FailedNodes: {} });
  expect((await prioritize({ Pod: pod({}), NodeNames: names }).expect(200)).body).toEqual(names.map((Host) => ({ Host, Score: 0 })));
});

it('marks every node unresolvable for a pod naming a version that does not exist or a bad reference', async () => {
  for (const annotations of [{ 'wharf.dev/model-version': 'nlp/llama@999' }, { 'wharf.dev/model-version': 'nlp/llama:prod' }]) {
    const response = await filter({ Pod: pod(annotations), NodeNames: ['warm-a'] }).expect(200);
    expect(response.body.NodeNames).toEqual([]);
    expect(response.body.FailedAndUnresolvableNodes['warm-a']).toMatch(/does not exist|is not project\/model@<version number>/);
  }
});

it('accepts the token as a path segment of the urlPrefix, the way kube-scheduler calls', async () => {
  const response = await supertest(registry.url).post(`/api/v1/scheduler/t/${TOKEN}/prioritize`).send({ Pod: pod(), NodeNames: ['warm-a'] }).expect(200);
  expect(response.body).toEqual([{ Host: 'warm-a', Score: 10 }]);
});

it.each([
  ['no token', {}],
  ['a wrong bearer token', bearer('scheduler_wrong_token_0123456789')],
  ['an admin API token', bearer('wharf_test_admin_token_0123456789abcdef')],
])('refuses a caller with %s (401)', async (_label, auth) => {
  expectProblem(await filter({ Pod: pod(), NodeNames: ['warm-a'] }, auth), 401, 'unauthenticated');
});

it('refuses a wrong token in the path (401)', async () => {
  const response = await supertest(registry.url).post('/api/v1/scheduler/t/scheduler_wrong_token_0123456789/filter').send({ Pod: pod(), NodeNames: ['warm-a'] });
  expectProblem(response, 401, 'unauthenticated');
});

it.each([
  ['an empty body', {}],
  ['no node names', { Pod: pod() }],
  ['lower-case keys', { pod: pod(), nodeNames: ['warm-a'] }],
  ['node names that are not strings', { Pod: pod(), NodeNames: [1, 2] }],
])('refuses ExtenderArgs with %s (400) and changes nothing', async (_label, body) => {
  const nodes = await registry.count('nodes');
  for (const verb of ['filter', 'prioritize']) {
    const response = await registry.http.post(`/api/v1/scheduler/${verb}`).set(bearer(TOKEN)).send(body);
    expectProblem(response, 400, 'validation_failed');
    expect(response.body.detail).toMatch(/Not kube-scheduler ExtenderArgs/);
  }
  expect(await registry.count('nodes')).toBe(nodes);
});

it('is off (404) on a registry without SCHEDULER_EXTENDER_TOKEN', async () => {
  const plain = await startTestRegistry();
  try {
    expectProblem(await plain.http.post('/api/v1/scheduler/filter').send({ Pod: pod(), NodeNames: ['a'] }), 404, 'scheduler_disabled');
  } finally {
    await plain.close();
  }
});

it('refuses a body that is not JSON (400), another media type (415) and ExtenderArgs over 1 MiB (413)', async () => {
  const raw = (type: string, body: string) => registry.http.post('/api/v1/scheduler/prioritize').set(bearer(TOKEN)).set('Content-Type', type).send(body);
  const notJson = await raw('application/json', '{"Pod": ');
  expectProblem(notJson, 400, 'validation_failed');
  expectProblem(await raw('text/plain', JSON.stringify({ Pod: pod(), NodeNames: ['warm-a'] })), 415, 'unsupported_media_type');
  const huge = JSON.stringify({ Pod: pod(), NodeNames: Array.from({ length: 50_000 }, (_, i) => `node-with-a-long-name-${i}`) });
  expectProblem(await raw('application/json', huge), 413, 'payload_too_large');
});
