import { eventually } from '../support/eventually';
import { addMember, createModel, createProject, createToken, expectProblem } from '../support/fixtures';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

describe('authentication and authorization', () => {
  let wharf: TestRegistry;
  let viewerToken: string;
  let editorToken: string;
  beforeAll(async () => {
    wharf = await startTestRegistry();
    await createProject(wharf, 'alpha');
    await createProject(wharf, 'beta');
    await createModel(wharf, 'beta', 'secret-model');
    await addMember(wharf, 'alpha', 'vic', 'viewer');
    await addMember(wharf, 'alpha', 'eddie', 'editor');
    viewerToken = await createToken(wharf, 'vic');
    editorToken = await createToken(wharf, 'eddie');
  });
  afterAll(async () => {
    await wharf?.close();
  });

  const models = (token?: string) => {
    const request = wharf.http.post('/api/v1/projects/alpha/models');
    return token === undefined ? request : request.set(bearer(token));
  };

  it('refuses a request without a token', async () => {
    expectProblem(await models().send({ name: 'm1' }), 401, 'unauthenticated');
    expect(await wharf.count('models')).toBe(1);
  });

  it('refuses a garbage token and a malformed Authorization header', async () => {
    expectProblem(await models('wharf_not-a-real-token').send({ name: 'm1' }), 401, 'token_invalid');
    expectProblem(await wharf.http.get('/api/v1/projects').set('Authorization', `Basic ${ADMIN_TOKEN}`), 401, 'token_invalid');
    expectProblem(await wharf.http.get('/api/v1/projects').set('Authorization', 'Bearer'), 401, 'token_invalid');
    expect(await wharf.count('models')).toBe(1);
  });

  it('refuses an expired token', async () => {
    const token = await createToken(wharf, 'eddie', { expiresAt: new Date(Date.now() + 1500).toISOString() });
    await wharf.http.get('/api/v1/projects').set(bearer(token)).expect(200);
    // Reads until the registry calls the token expired (a read stores nothing), then tries the write.
    await eventually(async () => (await wharf.http.get('/api/v1/projects').set(bearer(token))).body.code === 'token_expired', 'the token to expire');
    expectProblem(await models(token).send({ name: 'm-expired' }), 401, 'token_expired');
    expect(await wharf.count(`models WHERE name = 'm-expired'`)).toBe(0);
  });

  it('refuses a revoked token at once', async () => {
    const created = await wharf.http.post('/api/v1/tokens').set(bearer(editorToken)).send({ name: 'short-lived' }).expect(201);
    await models(created.body.token).send({ name: 'm-before-revoke' }).expect(201);
    await wharf.http.delete(`/api/v1/tokens/${created.body.id}`).set(bearer(editorToken)).expect(204);
    expectProblem(await models(created.body.token).send({ name: 'm-after-revoke' }), 401, 'token_revoked');
    expect(await wharf.count(`models WHERE name = 'm-after-revoke'`)).toBe(0);
  });

  it('lets a viewer read but not write (403 naming the role needed)', async () => {
    await wharf.http.get('/api/v1/projects/alpha/models').set(bearer(viewerToken)).expect(200);
    const response = await models(viewerToken).send({ name: 'by-viewer' });
    expectProblem(response, 403, 'forbidden');
    expect(response.body.detail).toMatch(/editor/);
    expect(await wharf.count(`models WHERE name = 'by-viewer'`)).toBe(0);
  });

  it('lets an editor create models but not delete them', async () => {
    await models(editorToken).send({ name: 'by-editor' }).expect(201);
    expectProblem(await wharf.http.delete('/api/v1/projects/alpha/models/by-editor').set(bearer(editorToken)), 403, 'forbidden');
  });

  it('answers 404, not 403, for a project the caller has no role in', async () => {
    for (const path of ['/api/v1/projects/beta', '/api/v1/projects/beta/models', '/api/v1/projects/beta/models/secret-model']) {
      const response = await wharf.http.get(path).set(bearer(editorToken));
      expectProblem(response, 404, 'project_not_found');
    }
    // The same answer as for a project that does not exist at all: nothing to tell them apart.
    const missing = await wharf.http.get('/api/v1/projects/nope/models').set(bearer(editorToken));
    const hidden = await wharf.http.get('/api/v1/projects/beta/models').set(bearer(editorToken));
    expect(hidden.body.detail.replace('beta', 'X')).toBe(missing.body.detail.replace('nope', 'X'));
    const list = await wharf.http.get('/api/v1/projects').set(bearer(editorToken)).expect(200);
    expect(list.body.items.map((p: { name: string }) => p.name)).toEqual(['alpha']);
  });

  it('keeps a project-scoped token inside its project, even for a platform admin', async () => {
    const scoped = await wharf.http.post('/api/v1/tokens').set(bearer(ADMIN_TOKEN)).send({ name: 'alpha-only', project: 'alpha' }).expect(201);
    await wharf.http.get('/api/v1/projects/alpha/models').set(bearer(scoped.body.token)).expect(200);
    expectProblem(await wharf.http.get('/api/v1/projects/beta/models').set(bearer(scoped.body.token)), 404, 'project_not_found');
    expectProblem(await wharf.http.post('/api/v1/projects').set(bearer(scoped.body.token)).send({ name: 'gamma' }), 403, 'forbidden');
    const list = await wharf.http.get('/api/v1/projects').set(bearer(scoped.body.token)).expect(200);
    expect(list.body.items.map((p: { name: string }) => p.name)).toEqual(['alpha']);
  });

  it('caps a token at its role ceiling', async () => {
    const capped = await wharf.http.post('/api/v1/tokens').set(bearer(editorToken)).send({ name: 'ro', role: 'viewer' }).expect(201);
    await wharf.http.get('/api/v1/projects/alpha/models').set(bearer(capped.body.token)).expect(200);
    expectProblem(await models(capped.body.token).send({ name: 'by-capped' }), 403, 'forbidden');
    // A capped token cannot mint a stronger one.
    expectProblem(
      await wharf.http.post('/api/v1/tokens').set(bearer(capped.body.token)).send({ name: 'up', role: 'admin' }),
      403,
      'forbidden',
    );
  });

  it('lets only a platform admin create projects or tokens for others', async () => {
    expectProblem(await wharf.http.post('/api/v1/projects').set(bearer(editorToken)).send({ name: 'gamma' }), 403, 'forbidden');
    const before = await wharf.count('api_tokens');
    expectProblem(
      await wharf.http.post('/api/v1/tokens').set(bearer(editorToken)).send({ name: 'x', principal: 'vic' }),
      403,
      'forbidden',
    );
    expect(await wharf.count('api_tokens')).toBe(before);
    expect(await wharf.count(`projects WHERE name = 'gamma'`)).toBe(0);
  });

  it('shows a token secret once and only its prefix afterwards', async () => {
    const created = await wharf.http.post('/api/v1/tokens').set(bearer(editorToken)).send({ name: 'laptop' }).expect(201);
    expect(created.body.token).toMatch(/^wharf_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    // The prefix is the public id, and nothing of the secret after it.
    expect(created.body.prefix).toMatch(/^wharf_[0-9a-f]{12}$/);
    expect(created.body.token.startsWith(`${created.body.prefix}_`)).toBe(true);
    const [{ secret_sha256: hash }]: { secret_sha256: string }[] = await wharf.registry.dataSource.query(
      `SELECT secret_sha256 FROM api_tokens WHERE id = $1`,
      [created.body.id],
    );
    for (const response of [
      await wharf.http.get('/api/v1/tokens').set(bearer(editorToken)),
      await wharf.http.get(`/api/v1/tokens/${created.body.id}`).set(bearer(editorToken)),
    ]) {
      expect(response.status).toBe(200);
      expect(response.text).not.toContain(created.body.token);
      expect(response.text).not.toContain(hash);
    }
  });

  it("hides other principals' tokens", async () => {
    const created = await wharf.http.post('/api/v1/tokens').set(bearer(editorToken)).send({ name: 'mine' }).expect(201);
    expectProblem(await wharf.http.get(`/api/v1/tokens/${created.body.id}`).set(bearer(viewerToken)), 404, 'token_not_found');
    expectProblem(await wharf.http.delete(`/api/v1/tokens/${created.body.id}`).set(bearer(viewerToken)), 404, 'token_not_found');
    await wharf.http.get(`/api/v1/tokens/${created.body.id}`).set(bearer(editorToken)).expect(200);
  });

  it('refuses bad token requests and stores nothing', async () => {
    const before = await wharf.count('api_tokens');
    for (const body of [
      {},
      { name: 'x', expiresInDays: 0 },
      { name: 'x', expiresInDays: 'ten' },
      { name: 'x', expiresAt: '2001-01-01T00:00:00Z' },
      { name: 'x', expiresAt: 'tomorrow' },
      { name: 'x', role: 'owner' },
      { name: 'x', project: 'beta' },
      { name: 'x', scopes: ['all'] },
    ]) {
      const response = await wharf.http.post('/api/v1/tokens').set(bearer(editorToken)).send(body);
      expect([400, 404]).toContain(response.status);
      expect(response.headers['content-type']).toMatch(/problem\+json/);
    }
    expect(await wharf.count('api_tokens')).toBe(before);
  });

  it('protects the last admin of a project', async () => {
    await createProject(wharf, 'solo');
    expectProblem(await wharf.http.delete('/api/v1/projects/solo/members/admin').set(bearer(ADMIN_TOKEN)), 409, 'last_admin');
    expectProblem(
      await wharf.http.put('/api/v1/projects/solo/members/admin').set(bearer(ADMIN_TOKEN)).send({ role: 'viewer' }),
      409,
      'last_admin',
    );
    await addMember(wharf, 'solo', 'second', 'admin');
    await wharf.http.delete('/api/v1/projects/solo/members/admin').set(bearer(ADMIN_TOKEN)).expect(204);
  });
});
