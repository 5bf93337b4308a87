import { eventually } from '../support/eventually';
import { createModel, createProject, createToken, expectProblem } from '../support/fixtures';
import { bytes, publishVersion } from '../support/node-cache';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

/** The registry side of the node cache, driven by hand-made heartbeats (no agent process). */
describe('nodes, warm-ups and locations in the registry', () => {
  let wharf: TestRegistry;
  let agentToken: string;
  let viewerToken: string;
  const READY_TIMEOUT = 2;

  const heartbeat = (node: string, body: object, token = agentToken) => wharf.http.put(`/api/v1/nodes/${node}`).set(bearer(token)).send(body);
  const beat = (labels: Record<string, string>, extra: object = {}) => ({
    labels,
    capacityBytes: 1000,
    budgetBytes: 800,
    usedBytes: 0,
    entries: [],
    demands: [],
    ...extra,
  });
  const entry = (version: number, state = 'ready') => ({ project: 'vision', model: 'resnet', version, state, bytesDone: 10, bytesTotal: 10 });
  const project = (path: string) => `/api/v1/projects/vision${path}`;

  beforeAll(async () => {
    wharf = await startTestRegistry({ NODE_READY_TIMEOUT_SECONDS: String(READY_TIMEOUT) });
    await createProject(wharf, 'vision');
    await createModel(wharf, 'vision', 'resnet');
    await publishVersion(wharf.url, 'vision', 'resnet', [{ path: 'a.bin', data: bytes(1000, 1) }]);
    await publishVersion(wharf.url, 'vision', 'resnet', [{ path: 'a.bin', data: bytes(1000, 2) }]);
    await wharf.http.post(project('/models/resnet/versions')).set(bearer(ADMIN_TOKEN)).send({}).expect(201);
    const created = await wharf.http
      .post('/api/v1/tokens')
      .set(bearer(ADMIN_TOKEN))
      .send({ name: 'agents', principal: 'node-agents', principalKind: 'node-agent' });
    expect(created.status).toBe(201);
    agentToken = created.body.token;
    await wharf.http.put('/api/v1/projects/vision/members/reader').set(bearer(ADMIN_TOKEN)).send({ role: 'viewer' });
    viewerToken = await createToken(wharf, 'reader');
  });
  afterAll(async () => {
    await wharf?.close();
  });

  it('assigns a warm-up to exactly the nodes its selector matches, and lists the ready holders as locations', async () => {
    const created = await wharf.http.post(project('/warmups')).set(bearer(ADMIN_TOKEN)).send({ model: 'resnet', ref: '@1', selector: { matchLabels: { gpu: 'a100' } } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ model: 'resnet', ref: '@1', version: 1, maxNodes: null, selector: { matchLabels: { gpu: 'a100' } } });

    const a = await heartbeat('node-a', beat({ gpu: 'a100' }));
    const t4 = await heartbeat('node-t4', beat({ gpu: 't4' }));
    expect(a.status).toBe(200);
    expect(a.body.assignments).toEqual([
      expect.objectContaining({ project: 'vision', model: 'resnet', version: 1, reasons: [`warmup:${created.body.id}`], manifestUrl: project('/models/resnet/versions/1/files') }),
    ]);
    expect(t4.body.assignments).toEqual([]);

    await heartbeat('node-a', beat({ gpu: 'a100' }, { entries: [entry(1)] })).expect(200);
    await heartbeat('node-t4', beat({ gpu: 't4' }, { entries: [entry(1, 'pulling')] })).expect(200);
    const locations = await wharf.http.get(project('/models/resnet/versions/1/locations')).set(bearer(viewerToken));
    expect(locations.status).toBe(200);
    expect(locations.body.items.map((item: { node: string }) => item.node)).toEqual(['node-a']);
    const shown = await wharf.http.get(project(`/warmups/${created.body.id}`)).set(bearer(viewerToken));
    expect(shown.body.nodes).toEqual([{ node: 'node-a', state: 'ready', bytesDone: 10, bytesTotal: 10 }]);
    await wharf.http.delete(project(`/warmups/${created.body.id}`)).set(bearer(ADMIN_TOKEN)).expect(204);
    expect((await heartbeat('node-a', beat({ gpu: 'a100' }))).body.assignments).toEqual([]);
  });

  it('follows a tag: when the tag moves, the next heartbeat assigns the version it names now', async () => {
    await wharf.http.put(project('/models/resnet/tags/prod')).set(bearer(ADMIN_TOKEN)).send({ version: 1 }).expect(200);
    const created = await wharf.http.post(project('/warmups')).set(bearer(ADMIN_TOKEN)).send({ model: 'resnet', ref: 'prod', selector: { matchLabels: { gpu: 'a100' } } });
    expect(created.body).toMatchObject({ ref: 'prod', version: 1 });
    const versions = async () => (await heartbeat('node-a', beat({ gpu: 'a100' }))).body.assignments.map((x: { version: number }) => x.version);
    expect(await versions()).toEqual([1]);
    await wharf.http.put(project('/models/resnet/tags/prod')).set(bearer(ADMIN_TOKEN)).send({ version: 2 }).expect(200);
    expect(await versions()).toEqual([2]);
    await wharf.http.delete(project(`/warmups/${created.body.id}`)).set(bearer(ADMIN_TOKEN)).expect(204);
    await wharf.http.delete(project('/models/resnet/tags/prod')).set(bearer(ADMIN_TOKEN)).expect(204);
  });

  it('under maxNodes keeps the version on the node that already holds it', async () => {
    const created = await wharf.http.post(project('/warmups')).set(bearer(ADMIN_TOKEN)).send({ model: 'resnet', ref: '@2', selector: { matchLabels: {} }, maxNodes: 1 });
    expect(created.status).toBe(201);
    await heartbeat('node-a', beat({ gpu: 'a100' })).expect(200);
    await heartbeat('node-t4', beat({ gpu: 't4' }, { entries: [entry(2)] })).expect(200);
    expect((await heartbeat('node-a', beat({ gpu: 'a100' }))).body.assignments).toEqual([]);
    expect((await heartbeat('node-t4', beat({ gpu: 't4' }, { entries: [entry(2)] }))).body.assignments.map((x: { version: number }) => x.version)).toEqual([2]);
    await wharf.http.delete(project(`/warmups/${created.body.id}`)).set(bearer(ADMIN_TOKEN)).expect(204);
  });

  it('assigns what pods on the node demand and rejects demands for unknown or uncommitted versions', async () => {
    const reply = await heartbeat(
      'node-a',
      beat({}, {
        demands: [
          { project: 'vision', model: 'resnet', version: 2, reason: 'lease' },
          { project: 'vision', model: 'resnet', version: 3, reason: 'request' },
          { project: 'vision', model: 'resnet', version: 9, reason: 'request' },
          { project: 'vision', model: 'nope', version: 1, reason: 'request' },
        ],
      }),
    );
    expect(reply.status).toBe(200);
    expect(reply.body.assignments).toEqual([expect.objectContaining({ version: 2, reasons: ['lease'] })]);
    expect(reply.body.rejected.map((r: { version: number; code: string }) => [r.version, r.code])).toEqual([
      [3, 'version_state_conflict'],
      [9, 'version_not_found'],
      [1, 'model_not_found'],
    ]);
  });

  it('marks a silent node not ready and drops it from locations', async () => {
    await heartbeat('node-quiet', beat({ gpu: 'a100' }, { entries: [entry(2)] })).expect(200);
    const listed = async () => (await wharf.http.get(project('/models/resnet/versions/2/locations')).set(bearer(viewerToken))).body.items.map((i: { node: string }) => i.node);
    expect(await listed()).toContain('node-quiet');
    await eventually(async () => !(await listed()).includes('node-quiet'), 'the silent node to leave the locations', READY_TIMEOUT * 1000 + 20_000);
    expect(await listed()).not.toContain('node-quiet');
    const node = await wharf.http.get('/api/v1/nodes/node-quiet').set(bearer(ADMIN_TOKEN));
    expect(node.body).toMatchObject({ name: 'node-quiet', ready: false, entries: [expect.objectContaining({ version: 2, state: 'ready' })] });
    const notReady = await wharf.http.get('/api/v1/nodes?ready=false').set(bearer(agentToken));
    expect(notReady.body.items.map((n: { name: string }) => n.name)).toContain('node-quiet');
  });

  it('audits registration, label changes, warm-ups and node removal, not routine heartbeats', async () => {
    const actions = async () =>
      ((await wharf.registry.dataSource.query(`SELECT action FROM audit_events WHERE target = 'node:node-audit' ORDER BY id`)) as { action: string }[]).map((r) => r.action);
    await heartbeat('node-audit', beat({ zone: 'a' })).expect(200);
    await heartbeat('node-audit', beat({ zone: 'a' })).expect(200);
    await heartbeat('node-audit', beat({ zone: 'b' })).expect(200);
    await wharf.http.delete('/api/v1/nodes/node-audit').set(bearer(ADMIN_TOKEN)).expect(204);
    expect(await actions()).toEqual(['node.register', 'node.update', 'node.delete']);
    expectProblem(await wharf.http.get('/api/v1/nodes/node-audit').set(bearer(ADMIN_TOKEN)), 404, 'node_not_found');
    const warmups = await wharf.registry.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE action LIKE 'warmup.%'`);
    expect(warmups[0].n).toBe(6);
  });

  it('lets only node agents and platform admins report nodes or list them', async () => {
    expectProblem(await heartbeat('node-x', beat({}), viewerToken), 403, 'forbidden');
    expectProblem(await wharf.http.get('/api/v1/nodes').set(bearer(viewerToken)), 403, 'forbidden');
    expectProblem(await wharf.http.put('/api/v1/nodes/node-x').send(beat({})), 401, 'unauthenticated');
    expectProblem(await wharf.http.delete('/api/v1/nodes/node-a').set(bearer(agentToken)), 403, 'forbidden');
    expect(await wharf.count("nodes WHERE name = 'node-x'")).toBe(0);
  });

  it('gives node agents read access to every project and nothing more', async () => {
    await wharf.http.get(project('/models/resnet/versions/1')).set(bearer(agentToken)).expect(200);
    expectProblem(await wharf.http.post(project('/models/resnet/versions')).set(bearer(agentToken)).send({}), 403, 'forbidden');
    expectProblem(await wharf.http.post(project('/warmups')).set(bearer(agentToken)).send({ model: 'resnet', ref: '@1', selector: { matchLabels: {} } }), 403, 'forbidden');
  });

  it.each([
    ['a node name that is not a DNS subdomain', 'Node_A', beat({}), 'invalid_name'],
    ['a bad label', 'node-b', beat({ 'bad key!': 'x' }), 'validation_failed'],
    ['a negative byte count', 'node-b', beat({}, { usedBytes: -1 }), 'validation_failed'],
    ['an unknown entry state', 'node-b', beat({}, { entries: [{ ...entry(1), state: 'cached' }] }), 'validation_failed'],
    ['an entry without a version', 'node-b', beat({}, { entries: [{ project: 'vision', model: 'resnet', state: 'ready', bytesDone: 1, bytesTotal: 1 }] }), 'validation_failed'],
    ['an unknown demand reason', 'node-b', beat({}, { demands: [{ project: 'vision', model: 'resnet', version: 1, reason: 'whim' }] }), 'validation_failed'],
    ['an unknown field', 'node-b', beat({}, { extra: true }), 'validation_failed'],
    ['no entries', 'node-b', { labels: {}, capacityBytes: 1, budgetBytes: 1, usedBytes: 0, demands: [] }, 'validation_failed'],
  ])('refuses a heartbeat with %s and stores nothing', async (_, node, body, code) => {
    const before = await wharf.count('nodes');
    expectProblem(await heartbeat(node, body), 400, code);
    expect(await wharf.count('nodes')).toBe(before);
  });

  it.each([
    ['an unknown model', { model: 'nope', ref: '@1', selector: { matchLabels: {} } }, 404, 'model_not_found'],
    ['a draft version', { model: 'resnet', ref: '@3', selector: { matchLabels: {} } }, 409, 'version_not_ready'],
    ['a version that does not exist', { model: 'resnet', ref: '@9', selector: { matchLabels: {} } }, 404, 'version_not_found'],
    ['an unknown tag', { model: 'resnet', ref: 'prod', selector: { matchLabels: {} } }, 404, 'tag_not_found'],
    ['a malformed reference', { model: 'resnet', ref: '@abc', selector: { matchLabels: {} } }, 400, 'invalid_reference'],
    ['a bad selector', { model: 'resnet', ref: '@1', selector: { matchLabels: { 'a b': 'c' } } }, 400, 'validation_failed'],
    ['no selector', { model: 'resnet', ref: '1' }, 400, 'validation_failed'],
    ['maxNodes 0', { model: 'resnet', ref: '@1', selector: { matchLabels: {} }, maxNodes: 0 }, 400, 'validation_failed'],
  ])('refuses a warm-up with %s and stores nothing', async (_, body, status, code) => {
    const before = await wharf.count('warmups');
    expectProblem(await wharf.http.post(project('/warmups')).set(bearer(ADMIN_TOKEN)).send(body), status, code);
    expect(await wharf.count('warmups')).toBe(before);
  });

  it('answers 404 for unknown warm-ups and versions without locations', async () => {
    expectProblem(await wharf.http.get(project('/warmups/not-a-uuid')).set(bearer(ADMIN_TOKEN)), 404, 'warmup_not_found');
    expectProblem(await wharf.http.delete(project('/warmups/00000000-0000-0000-0000-000000000000')).set(bearer(ADMIN_TOKEN)), 404, 'warmup_not_found');
    expectProblem(await wharf.http.get(project('/models/resnet/versions/99/locations')).set(bearer(ADMIN_TOKEN)), 404, 'version_not_found');
  });
});
