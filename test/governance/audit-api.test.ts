import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';
import { createProject, memberToken } from './helpers';

const admin = bearer(ADMIN_TOKEN);

interface AuditItem {
  id: string;
  occurredAt: string;
  actor: string;
  project: string | null;
  action: string;
  target: string;
}

describe('GET /api/v1/audit', () => {
  let registry: TestRegistry;
  let alice: string; // admin of "red", viewer of "blue"
  let viewer: string; // viewer of "red" only

  beforeAll(async () => {
    registry = await startTestRegistry({ WEBHOOK_DISPATCH_ENABLED: 'false' });
    await createProject(registry.http, 'red');
    await createProject(registry.http, 'blue');
    alice = (await memberToken(registry.http, 'red', 'alice', 'admin')).token;
    await registry.http.put('/api/v1/projects/blue/members/alice').set(admin).send({ role: 'viewer' }).expect(200);
    viewer = (await memberToken(registry.http, 'red', 'vic', 'viewer')).token;
    for (const name of ['one', 'two', 'three']) await registry.http.post('/api/v1/projects/red/models').set(bearer(alice)).send({ name }).expect(201);
    await registry.http.post('/api/v1/projects/blue/models').set(admin).send({ name: 'bluemodel' }).expect(201);
  });
  afterAll(() => registry?.close());

  const list = (token: string, query = '') => registry.http.get(`/api/v1/audit${query}`).set(bearer(token));

  it('shows the platform admin every event, newest first, including those outside projects', async () => {
    const response = await list(ADMIN_TOKEN, '?limit=200').expect(200);
    const items: AuditItem[] = response.body.items;
    expect(items.length).toBe(await registry.count('audit_events'));
    expect(items.map((item) => Number(item.id))).toEqual([...items.map((item) => Number(item.id))].sort((a, b) => b - a));
    expect(items.some((item) => item.project === null && item.action === 'principal.create')).toBe(true);
    expect(items.some((item) => item.project === 'blue')).toBe(true);
    expect(items[0]).toEqual({
      id: expect.stringMatching(/^[0-9]+$/),
      occurredAt: expect.any(String),
      actor: 'admin',
      project: 'blue',
      action: 'model.create',
      target: 'blue/bluemodel',
      details: { description: '', labels: {} },
      requestId: expect.any(String),
    });
  });

  it("shows a project admin only the events of the projects they administer", async () => {
    const items: AuditItem[] = (await list(alice, '?limit=200').expect(200)).body.items;
    expect(items.length).toBeGreaterThan(0);
    expect(new Set(items.map((item) => item.project))).toEqual(new Set(['red']));
  });

  it('refuses a project the caller only views (403) or has no role in (404)', async () => {
    expect((await list(alice, '?project=blue').expect(403)).body.code).toBe('forbidden');
    await createProject(registry.http, 'green');
    expect((await list(alice, '?project=green').expect(404)).body.code).toBe('project_not_found');
    expect((await list(alice, '?project=nowhere').expect(404)).body.code).toBe('project_not_found');
  });

  it('answers an empty list to a caller who administers no project', async () => {
    expect((await list(viewer).expect(200)).body).toEqual({ items: [], nextCursor: null });
  });

  it('limits a project-scoped or role-capped token like the access guard does', async () => {
    const capped = await registry.http.post('/api/v1/tokens').set(bearer(alice)).send({ name: 'capped', role: 'editor' }).expect(201);
    expect((await list(capped.body.token).expect(200)).body.items).toEqual([]);
    const scoped = await registry.http.post('/api/v1/tokens').set(admin).send({ name: 'scoped', project: 'blue' }).expect(201);
    const items: AuditItem[] = (await list(scoped.body.token, '?limit=200').expect(200)).body.items;
    expect(items.length).toBeGreaterThan(0);
    expect(new Set(items.map((item) => item.project))).toEqual(new Set(['blue']));
  });

  it('filters by project, actor, exact action and action prefix', async () => {
    const byActor: AuditItem[] = (await list(ADMIN_TOKEN, '?actor=alice&project=red&limit=200').expect(200)).body.items;
    expect(byActor.map((item) => item.target).sort()).toEqual(['red/one', 'red/three', 'red/two']);
    const exact: AuditItem[] = (await list(ADMIN_TOKEN, '?action=model.create&project=red').expect(200)).body.items;
    expect(exact.map((item) => item.target)).toEqual(['red/three', 'red/two', 'red/one']);
    const prefix: AuditItem[] = (await list(ADMIN_TOKEN, '?action=member.*&limit=200').expect(200)).body.items;
    expect(prefix.length).toBeGreaterThanOrEqual(3);
    expect(prefix.every((item) => item.action.startsWith('member.'))).toBe(true);
  });

  it('filters by time range', async () => {
    const all: AuditItem[] = (await list(ADMIN_TOKEN, '?limit=200').expect(200)).body.items;
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await list(ADMIN_TOKEN, `?since=${future}`).expect(200)).body.items).toEqual([]);
    expect((await list(ADMIN_TOKEN, `?until=${future}&limit=200`).expect(200)).body.items).toHaveLength(all.length);
    const pivot = all[Math.floor(all.length / 2)].occurredAt;
    const since: AuditItem[] = (await list(ADMIN_TOKEN, `?since=${pivot}&limit=200`).expect(200)).body.items;
    const until: AuditItem[] = (await list(ADMIN_TOKEN, `?until=${pivot}&limit=200`).expect(200)).body.items;
    expect(since.every((item) => item.occurredAt >= pivot)).toBe(true);
    expect(until.every((item) => item.occurredAt < pivot)).toBe(true);
  });

  it('pages through everything with the cursor, without gaps or repeats', async () => {
    const all: AuditItem[] = (await list(ADMIN_TOKEN, '?limit=200').expect(200)).body.items;
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response: { body: { items: AuditItem[]; nextCursor: string | null } } = await list(ADMIN_TOKEN, `?limit=3${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      seen.push(...response.body.items.map((item: AuditItem) => item.id));
      cursor = response.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((item) => item.id));
  });

  it.each([
    ['a malformed since', '?since=yesterday', 'since'],
    ['a malformed action', '?action=DROP TABLE', 'action'],
    ['a bad project name', '?project=Not_A_Name', 'project'],
    ['an unknown parameter', '?colour=red', 'colour'],
    ['a limit above the maximum', '?limit=201', 'limit'],
  ])('answers 400 to %s, naming the field', async (_, query, field) => {
    const response = await list(ADMIN_TOKEN, query).expect(400);
    expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
  });

  it('answers 400 invalid_cursor to a cursor it did not make', async () => {
    expect((await list(ADMIN_TOKEN, '?cursor=bm90LWEtY3Vyc29y').expect(400)).body.code).toBe('invalid_cursor');
  });

  it('needs a token', async () => {
    expect((await registry.http.get('/api/v1/audit').expect(401)).body.code).toBe('unauthenticated');
  });
});
