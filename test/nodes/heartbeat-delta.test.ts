import { expectProblem } from '../support/fixtures';
import { bytes, nodeAgentToken, publishVersion } from '../support/node-cache';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

/** Delta heartbeats, the writes a heartbeat makes, and the paged node lists. */
describe('delta heartbeats and paged node lists', () => {
  let wharf: TestRegistry;
  let agentToken: string;

  const entry = (version: number, state = 'ready', done = 10) => ({ project: 'delta', model: 'm', version, state, bytesDone: done, bytesTotal: 10 });
  const ref = (version: number) => ({ project: 'delta', model: 'm', version });
  const base = (labels: Record<string, string> = {}) => ({ labels, capacityBytes: 1000, budgetBytes: 800, usedBytes: 0, demands: [] });
  const heartbeat = (node: string, body: object) => wharf.http.put(`/api/v1/nodes/${node}`).set(bearer(agentToken)).send({ ...base(), ...body });
  const held = async (node: string) =>
    ((await wharf.http.get(`/api/v1/nodes/${node}`).set(bearer(ADMIN_TOKEN)).expect(200)).body.entries as { version: number; state: string; bytesDone: number }[]).map(
      (e) => `${e.version}:${e.state}:${e.bytesDone}`,
    );

  beforeAll(async () => {
    wharf = await startTestRegistry();
    await wharf.http.post('/api/v1/projects').set(bearer(ADMIN_TOKEN)).send({ name: 'delta' }).expect(201);
    await wharf.http.post('/api/v1/projects/delta/models').set(bearer(ADMIN_TOKEN)).send({ name: 'm' }).expect(201);
    for (let seed = 1; seed <= 4; seed++) await publishVersion(wharf.url, 'delta', 'm', [{ path: 'a.bin', data: bytes(100, seed) }]);
    agentToken = await nodeAgentToken(wharf.url);
  });
  afterAll(async () => {
    await wharf?.close();
  });

  it('applies a delta on top of the acknowledged inventory and acknowledges its sequence', async () => {
    const full = await heartbeat('d-apply', { sequence: 1, entries: [entry(1), entry(2, 'pulling', 3)] }).expect(200);
    expect(full.body).toMatchObject({ sequence: 1, resync: false });
    const delta = await heartbeat('d-apply', { sequence: 2, delta: { since: 1, upserts: [entry(2, 'pulling', 7), entry(3)], removals: [ref(1)] } }).expect(200);
    expect(delta.body).toMatchObject({ sequence: 2, resync: false });
    expect(await held('d-apply')).toEqual(['2:pulling:7', '3:ready:10']);
  });

  it('asks for a resync when a reply was lost, and loses no entry through it', async () => {
    await heartbeat('d-lost', { sequence: 1, entries: [entry(1)] }).expect(200);
    // Applied by the registry, but the agent never sees the reply: it still holds 1 as acknowledged.
    await heartbeat('d-lost', { sequence: 2, delta: { since: 1, upserts: [entry(2, 'pulling', 5)], removals: [] } }).expect(200);
    // Its next delta is against 1: entry 4 was added and finished, 1 evicted, 2 finished meanwhile.
    const stale = await heartbeat('d-lost', { sequence: 3, delta: { since: 1, upserts: [entry(2), entry(4)], removals: [ref(1)] } }).expect(200);
    expect(stale.body).toMatchObject({ resync: true, sequence: 2 });
    expect(await held('d-lost')).toEqual(['1:ready:10', '2:pulling:5']);
    const resync = await heartbeat('d-lost', { sequence: 4, entries: [entry(2), entry(4)] }).expect(200);
    expect(resync.body).toMatchObject({ resync: false, sequence: 4 });
    expect(await held('d-lost')).toEqual(['2:ready:10', '4:ready:10']);
    await heartbeat('d-lost', { sequence: 5, delta: { since: 4, upserts: [entry(3, 'pulling', 1)], removals: [] } }).expect(200);
    expect(await held('d-lost')).toEqual(['2:ready:10', '3:pulling:1', '4:ready:10']);
  });

  it('asks a node it does not know (deleted meanwhile) for its whole inventory', async () => {
    await heartbeat('d-forgotten', { sequence: 1, entries: [entry(1)] }).expect(200);
    await wharf.http.delete('/api/v1/nodes/d-forgotten').set(bearer(ADMIN_TOKEN)).expect(204);
    const reply = await heartbeat('d-forgotten', { sequence: 2, delta: { since: 1, upserts: [], removals: [] } }).expect(200);
    expect(reply.body).toMatchObject({ resync: true, sequence: null });
    expect(await held('d-forgotten')).toEqual([]);
  });

  it('rewrites no entry that did not change, with a whole inventory or a delta', async () => {
    await heartbeat('d-quiet', { sequence: 1, entries: [entry(1), entry(2), entry(3, 'pulling', 1)] }).expect(200);
    const versions = async () =>
      (await wharf.registry.dataSource.query(`SELECT xmin::text AS x, state FROM node_cache_entries WHERE node_name = 'd-quiet' ORDER BY version_id`)) as { x: string }[];
    const before = await versions();
    await heartbeat('d-quiet', { sequence: 2, entries: [entry(1), entry(2), entry(3, 'pulling', 1)] }).expect(200);
    await heartbeat('d-quiet', { sequence: 3, delta: { since: 2, upserts: [entry(1)], removals: [] } }).expect(200);
    expect(await versions()).toEqual(before);
    await heartbeat('d-quiet', { sequence: 4, delta: { since: 3, upserts: [entry(3, 'pulling', 2)], removals: [] } }).expect(200);
    const after = await versions();
    expect(after.filter((row, i) => row.x !== before[i].x)).toHaveLength(1);
  });

  it.each([
    ['both entries and a delta', { sequence: 2, entries: [], delta: { since: 1, upserts: [], removals: [] } }, 'delta'],
    ['a delta without a sequence', { delta: { since: 1, upserts: [], removals: [] } }, 'sequence'],
    ['a sequence not after since', { sequence: 1, delta: { since: 1, upserts: [], removals: [] } }, 'sequence'],
    ['a negative since', { sequence: 2, delta: { since: -1, upserts: [], removals: [] } }, 'delta'],
    ['a delta without removals', { sequence: 2, delta: { since: 1, upserts: [] } }, 'delta'],
    ['a version upserted twice', { sequence: 2, delta: { since: 1, upserts: [entry(2), entry(2, 'pulling')], removals: [] } }, 'delta.upserts'],
    ['a version both upserted and removed', { sequence: 2, delta: { since: 1, upserts: [entry(2)], removals: [ref(2)] } }, 'delta.removals'],
    ['a removal that is not a version', { sequence: 2, delta: { since: 1, upserts: [], removals: [{ project: 'delta', model: 'm' }] } }, 'delta'],
    ['an upsert with an unknown state', { sequence: 2, delta: { since: 1, upserts: [entry(2, 'cached')], removals: [] } }, 'delta'],
    ['a delta that is a list', { sequence: 2, delta: [] }, 'delta'],
    ['a version listed twice in entries', { sequence: 2, entries: [entry(1), entry(1)] }, 'entries'],
  ])('refuses a heartbeat with %s and stores nothing', async (_, body, field) => {
    await heartbeat('d-bad', { sequence: 1, entries: [entry(1)] }).expect(200);
    const before = await wharf.http.get('/api/v1/nodes/d-bad').set(bearer(ADMIN_TOKEN)).expect(200);
    const refused = await heartbeat('d-bad', body);
    expectProblem(refused, 400, 'validation_failed');
    expect(JSON.stringify(refused.body)).toContain(field);
    const after = await wharf.http.get('/api/v1/nodes/d-bad').set(bearer(ADMIN_TOKEN)).expect(200);
    expect(after.body).toEqual(before.body);
  });

  it('pages GET /nodes by name with a cursor, filtered by labels and readiness', async () => {
    for (let i = 0; i < 7; i++) await heartbeat(`page-${i}`, { ...base({ pool: i % 2 ? 'odd' : 'even', zone: 'z' }), entries: i < 3 ? [entry(1)] : [] }).expect(200);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { name: string }[]; nextCursor: string | null } } = await wharf.http
        .get('/api/v1/nodes')
        .query({ label: 'pool=even,zone', limit: 2, ready: 'true', ...(cursor ? { cursor } : {}) })
        .set(bearer(agentToken))
        .expect(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((item) => item.name));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['page-0', 'page-2', 'page-4', 'page-6']);
    const notReady = await wharf.http.get('/api/v1/nodes').query({ label: 'pool=even', ready: 'false' }).set(bearer(agentToken)).expect(200);
    expect(notReady.body).toEqual({ items: [], nextCursor: null });
    const located = await wharf.http.get('/api/v1/projects/delta/models/m/versions/1/locations').query({ label: 'pool', limit: 2 }).set(bearer(ADMIN_TOKEN)).expect(200);
    expect(located.body.items.map((item: { node: string }) => item.node)).toEqual(['page-0', 'page-1']);
    const rest = await wharf.http.get('/api/v1/projects/delta/models/m/versions/1/locations').query({ label: 'pool', cursor: located.body.nextCursor }).set(bearer(ADMIN_TOKEN)).expect(200);
    expect(rest.body).toMatchObject({ items: [expect.objectContaining({ node: 'page-2', labels: { pool: 'even', zone: 'z' } })], nextCursor: null });
  });

  it.each([
    ['a cursor this list did not make', { cursor: 'bm90LWEtY3Vyc29y' }, 'invalid_cursor'],
    ['a limit of 0', { limit: 0 }, 'validation_failed'],
    ['a limit over the maximum', { limit: 5000 }, 'validation_failed'],
    ['a bad label selector', { label: 'bad key!' }, 'validation_failed'],
  ])('refuses a node list with %s', async (_, query, code) => {
    expectProblem(await wharf.http.get('/api/v1/nodes').query(query).set(bearer(agentToken)), 400, code);
    expectProblem(await wharf.http.get('/api/v1/projects/delta/models/m/versions/1/locations').query(query).set(bearer(ADMIN_TOKEN)), 400, code);
  });
});
