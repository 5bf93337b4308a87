import { expectProblem } from '../support/fixtures';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

describe('projects', () => {
  let wharf: TestRegistry;
  beforeAll(async () => {
    wharf = await startTestRegistry();
  });
  afterAll(async () => {
    await wharf?.close();
  });

  const post = (body: unknown) => wharf.http.post('/api/v1/projects').set(bearer(ADMIN_TOKEN)).send(body as object);

  it('creates a project and makes its creator an admin member', async () => {
    const response = await post({ name: 'vision', description: 'computer vision', labels: { team: 'perception' } });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ name: 'vision', description: 'computer vision', labels: { team: 'perception' }, role: 'admin' });
    const members = await wharf.http.get('/api/v1/projects/vision/members').set(bearer(ADMIN_TOKEN));
    expect(members.body.items).toEqual([expect.objectContaining({ principal: 'admin', role: 'admin' })]);
  });

  it('refuses a second project with the same name', async () => {
    await post({ name: 'dup' }).expect(201);
    const before = await wharf.count('projects');
    expectProblem(await post({ name: 'dup' }), 409, 'project_exists');
    expect(await wharf.count('projects')).toBe(before);
  });

  it.each([
    ['uppercase', 'Vision'],
    ['too long', 'a'.repeat(64)],
    ['dot-dot', '..'],
    ['spaces', 'my project'],
    ['non-ASCII', 'visión'],
    ['a slash', 'a/b'],
    ['empty', ''],
  ])('refuses a name with %s and stores nothing', async (_, name) => {
    const before = await wharf.count('projects');
    const response = await post({ name });
    expectProblem(response, 400, 'invalid_name');
    expect(response.body.errors).toEqual([expect.objectContaining({ field: 'name' })]);
    expect(await wharf.count('projects')).toBe(before);
    expect(await wharf.count(`audit_events WHERE action = 'project.create' AND target = '${name.replace(/'/g, "''")}'`)).toBe(0);
  });

  it('names every bad field: unknown fields and wrong types', async () => {
    const before = await wharf.count('projects');
    const response = await post({ name: 42, colour: 'blue', labels: { 'bad key!': 'x' }, description: ['x'] });
    expectProblem(response, 400, 'validation_failed');
    const fields = (response.body.errors as { field: string }[]).map((error) => error.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'colour', 'labels', 'description']));
    expect(await wharf.count('projects')).toBe(before);
  });

  it('refuses a body that is not JSON', async () => {
    const response = await wharf.http
      .post('/api/v1/projects')
      .set(bearer(ADMIN_TOKEN))
      .set('Content-Type', 'application/json')
      .send('{"name": "broken"');
    expectProblem(response, 400, 'validation_failed');
  });

  it('lists projects by page with a cursor, filtered by prefix and label', async () => {
    for (const name of ['list-a', 'list-b', 'list-c', 'other']) {
      await post({ name, labels: { group: name.startsWith('list') ? 'l' : 'o' } }).expect(201);
    }
    const first = await wharf.http.get('/api/v1/projects?prefix=list-&limit=2').set(bearer(ADMIN_TOKEN)).expect(200);
    expect(first.body.items.map((p: { name: string }) => p.name)).toEqual(['list-a', 'list-b']);
    const second = await wharf.http
      .get(`/api/v1/projects?prefix=list-&limit=2&cursor=${first.body.nextCursor}`)
      .set(bearer(ADMIN_TOKEN))
      .expect(200);
    expect(second.body).toEqual({ items: [expect.objectContaining({ name: 'list-c' })], nextCursor: null });
    const labelled = await wharf.http.get('/api/v1/projects?label=group=o').set(bearer(ADMIN_TOKEN)).expect(200);
    expect(labelled.body.items.map((p: { name: string }) => p.name)).toEqual(['other']);
    const descending = await wharf.http.get('/api/v1/projects?prefix=list-&sort=-name').set(bearer(ADMIN_TOKEN)).expect(200);
    expect(descending.body.items.map((p: { name: string }) => p.name)).toEqual(['list-c', 'list-b', 'list-a']);
  });

  it('refuses a garbage cursor, a cursor of another sort and an unknown sort', async () => {
    expectProblem(await wharf.http.get('/api/v1/projects?cursor=garbage').set(bearer(ADMIN_TOKEN)), 400, 'invalid_cursor');
    const page = await wharf.http.get('/api/v1/projects?limit=1').set(bearer(ADMIN_TOKEN)).expect(200);
    expectProblem(
      await wharf.http.get(`/api/v1/projects?limit=1&sort=-name&cursor=${page.body.nextCursor}`).set(bearer(ADMIN_TOKEN)),
      400,
      'invalid_cursor',
    );
    expectProblem(await wharf.http.get('/api/v1/projects?sort=colour').set(bearer(ADMIN_TOKEN)), 400, 'validation_failed');
    expectProblem(await wharf.http.get('/api/v1/projects?limit=1000').set(bearer(ADMIN_TOKEN)), 400, 'validation_failed');
  });

  it('updates labels and deletes an empty project, refusing one that holds models', async () => {
    await post({ name: 'doomed' }).expect(201);
    await wharf.http.patch('/api/v1/projects/doomed').set(bearer(ADMIN_TOKEN)).send({ labels: { a: 'b' } }).expect(200);
    await wharf.http.post('/api/v1/projects/doomed/models').set(bearer(ADMIN_TOKEN)).send({ name: 'm' }).expect(201);
    expectProblem(await wharf.http.delete('/api/v1/projects/doomed').set(bearer(ADMIN_TOKEN)), 409, 'project_not_empty');
    await wharf.http.delete('/api/v1/projects/doomed/models/m').set(bearer(ADMIN_TOKEN)).expect(204);
    await wharf.http.delete('/api/v1/projects/doomed').set(bearer(ADMIN_TOKEN)).expect(204);
    expectProblem(await wharf.http.get('/api/v1/projects/doomed').set(bearer(ADMIN_TOKEN)), 404, 'project_not_found');
  });

  it('writes an audit record for each mutation', async () => {
    await post({ name: 'audited' }).expect(201);
    await wharf.http.patch('/api/v1/projects/audited').set(bearer(ADMIN_TOKEN)).send({ description: 'x' }).expect(200);
    const rows: { action: string; actor: string }[] = await wharf.registry.dataSource.query(
      `SELECT action, actor FROM audit_events WHERE project = 'audited' ORDER BY id`,
    );
    expect(rows).toEqual([
      { action: 'project.create', actor: 'admin' },
      { action: 'project.update', actor: 'admin' },
    ]);
  });
});
