import { auth, seedModel } from '../support/release-fixtures';
import { bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

const M = '/api/v1/projects/hot/models/resnet';

describe('resolve from the in-process caches', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startTestRegistry();
    await seedModel(registry.http, 'hot', 'resnet', 2);
    await registry.http.put(`${M}/tags/prod`).set(auth).send({ version: 1 }).expect(200);
  });
  afterAll(async () => registry?.close());

  it('answers a repeated resolve from the cache with the same body, a request id and no database read', async () => {
    const first = await registry.http.get(`${M}/resolve?ref=prod`).set(auth).expect(200);
    // The ordinary path answers through Express (which adds an ETag); the cached answer does not.
    expect(first.headers.etag).toBeDefined();
    const queries: string[] = [];
    const original = registry.registry.dataSource.query.bind(registry.registry.dataSource);
    registry.registry.dataSource.query = ((sql: string, ...rest: unknown[]) => {
      queries.push(sql);
      return original(sql, ...(rest as []));
    }) as typeof registry.registry.dataSource.query;
    try {
      const second = await registry.http.get(`${M}/resolve?ref=prod`).set(auth).set('X-Request-Id', 'abc-123').expect(200);
      expect(second.text).toBe(first.text);
      expect(second.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(second.headers['x-request-id']).toBe('abc-123');
      expect(second.headers.etag).toBeUndefined();
      expect(queries).toEqual([]);
    } finally {
      registry.registry.dataSource.query = original;
    }
  });

  it('still refuses unknown query parameters and conditional requests go the ordinary way', async () => {
    await registry.http.get(`${M}/resolve?ref=prod`).set(auth).expect(200);
    const extra = await registry.http.get(`${M}/resolve?ref=prod&x=1`).set(auth).expect(400);
    expect(extra.body.code).toBe('validation_failed');
    const first = await registry.http.get(`${M}/resolve?ref=prod`).set(auth).set('If-None-Match', 'W/"nope"').expect(200);
    await registry.http.get(`${M}/resolve?ref=prod`).set(auth).set('If-None-Match', first.headers.etag).expect(304);
  });

  it('refuses a revoked token at once, though its answer was cached', async () => {
    const created = await registry.http.post('/api/v1/tokens').set(auth).send({ name: 'reader' }).expect(201);
    const token = bearer(created.body.token);
    await registry.http.get(`${M}/resolve?ref=prod`).set(token).expect(200);
    await registry.http.get(`${M}/resolve?ref=prod`).set(token).expect(200);
    await registry.http.delete(`/api/v1/tokens/${created.body.id}`).set(auth).expect(204);
    const refused = await registry.http.get(`${M}/resolve?ref=prod`).set(token).expect(401);
    expect(refused.body.code).toBe('token_revoked');
  });

  it('forgets a removed member at once, though the role was cached', async () => {
    await registry.http.put('/api/v1/projects/hot/members/carol').set(auth).send({ role: 'viewer' }).expect(200);
    const created = await registry.http.post('/api/v1/tokens').set(auth).send({ name: 'carol', principal: 'carol' }).expect(201);
    const token = bearer(created.body.token);
    await registry.http.get(`${M}/resolve?ref=prod`).set(token).expect(200);
    await registry.http.get(`${M}/resolve?ref=prod`).set(token).expect(200);
    await registry.http.delete('/api/v1/projects/hot/members/carol').set(auth).expect(204);
    const refused = await registry.http.get(`${M}/resolve?ref=prod`).set(token).expect(404);
    expect(refused.body.code).toBe('project_not_found');
  });

  it('answers the new version at once after a move, pin or rollback in this process', async () => {
    const resolve = async () => (await registry.http.get(`${M}/resolve?ref=prod`).set(auth).expect(200)).body;
    await resolve();
    await registry.http.put(`${M}/tags/prod`).set(auth).send({ version: 2 }).expect(200);
    expect(await resolve()).toMatchObject({ number: 2, pinned: false });
    await registry.http.post(`${M}/tags/prod/rollback`).set(auth).send({}).expect(200);
    expect(await resolve()).toMatchObject({ number: 1, pinned: true });
    await registry.http.post(`${M}/tags/prod/unpin`).set(auth).send({}).expect(200);
    expect(await resolve()).toMatchObject({ number: 1, pinned: false });
  });
});
