import { auth, seedModel } from '../support/release-fixtures';
import { startTestRegistry, TestRegistry } from '../support/test-registry';

const P = '/api/v1/projects/split';
const M = `${P}/models/resnet`;
const KEYS = Array.from({ length: 40 }, (_, index) => `user-${index}`);

describe('resolve?ref=project/endpoint&key=…: the version an endpoint serves a sticky key', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startTestRegistry();
    await seedModel(registry.http, 'split', 'resnet', 2);
    await seedModel(registry.http, 'split', 'bert', 1);
    await registry.http.put(`${M}/tags/prod`).set(auth).send({ version: 1 }).expect(200);
    await registry.http
      .put(`${P}/endpoints/classifier`)
      .set(auth)
      .send({ routes: [{ ref: 'resnet:prod', weight: 50 }, { ref: 'resnet@2', weight: 50 }], stickyHeader: 'X-User-Id' })
      .expect(201);
    await registry.http
      .put(`${P}/endpoints/mixed`)
      .set(auth)
      .send({ routes: [{ ref: 'resnet@1', weight: 50 }, { ref: 'bert@1', weight: 50 }] })
      .expect(201);
  });
  afterAll(() => registry?.close());

  const resolve = (query: Record<string, string>) => registry.http.get(`${M}/resolve`).query(query).set(auth);

  it('answers for every key the version the endpoint routes that key to', async () => {
    const served = new Set<number>();
    for (const key of KEYS) {
      const decision = await registry.http.get(`${P}/endpoints/classifier/route`).query({ key }).set(auth).expect(200);
      const resolved = await resolve({ ref: 'split/classifier', key }).expect(200);
      expect(resolved.body).toEqual({
        reference: `split/resnet@${decision.body.route.version}`,
        project: 'split',
        model: 'resnet',
        number: decision.body.route.version,
        state: 'ready',
        manifestDigest: decision.body.route.manifestDigest,
        endpoint: 'classifier',
        key,
        route: decision.body.route.ref,
      });
      served.add(resolved.body.number);
    }
    // A 50/50 split: both versions serve some of the 40 keys.
    expect([...served].sort()).toEqual([1, 2]);
  });

  it('gives a key the same version on every resolve, and reads the sticky header without a key', async () => {
    for (const key of KEYS.slice(0, 8)) {
      const first = (await resolve({ ref: 'split/classifier', key }).expect(200)).body.number;
      expect((await resolve({ ref: 'split/classifier', key }).expect(200)).body.number).toBe(first);
      const byHeader = await registry.http.get(`${M}/resolve`).query({ ref: 'split/classifier' }).set(auth).set('X-User-Id', key).expect(200);
      expect(byHeader.body).toMatchObject({ number: first, key });
    }
  });

  it('follows a tag route live', async () => {
    const onTag = [];
    for (const key of KEYS) {
      const body = (await resolve({ ref: 'split/classifier', key }).expect(200)).body;
      if (body.route === 'split/resnet:prod') onTag.push(key);
    }
    expect(onTag.length).toBeGreaterThan(0);
    await registry.http.put(`${M}/tags/prod`).set(auth).send({ version: 2 }).expect(200);
    for (const key of onTag) expect((await resolve({ ref: 'split/classifier', key }).expect(200)).body.number).toBe(2);
    await registry.http.put(`${M}/tags/prod`).set(auth).send({ version: 1 }).expect(200);
  });

  it('ignores the key for tags, numbers and digests, which name one version for every key', async () => {
    expect((await resolve({ ref: 'prod', key: 'user-1' }).expect(200)).body).toMatchObject({ number: 1, tag: 'prod' });
    expect((await resolve({ ref: '@2', key: 'user-1' }).expect(200)).body.number).toBe(2);
  });

  it('refuses a key routed to another model with 409, and answers the keys routed to this one', async () => {
    const outcomes = new Set<number>();
    for (const key of KEYS) {
      const response = await resolve({ ref: 'split/mixed', key });
      outcomes.add(response.status);
      if (response.status === 409) {
        expect(response.body.code).toBe('endpoint_model_mismatch');
        expect(response.body.route).toBe('split/bert@1');
      } else {
        expect(response.body).toMatchObject({ number: 1, route: 'split/resnet@1' });
      }
    }
    expect([...outcomes].sort()).toEqual([200, 409]);
  });

  it.each([
    ['split/nowhere', 404, 'endpoint_not_found'],
    ['other/classifier', 400, 'invalid_reference'],
    ['split/Bad_Name', 400, 'invalid_reference'],
  ])('answers %s with %i %s', async (ref, status, code) => {
    const response = await resolve({ ref, key: 'user-1' }).expect(status);
    expect(response.body.code).toBe(code);
  });

  it('documents key in OpenAPI', async () => {
    const document = (await registry.http.get('/docs-json').expect(200)).body;
    const operation = document.paths['/api/v1/projects/{project}/models/{model}/resolve'].get;
    const key = operation.parameters.find((parameter: { name: string }) => parameter.name === 'key');
    expect(key).toMatchObject({ in: 'query', required: false });
    expect(key.description).toMatch(/endpoint/);
    expect(JSON.stringify(operation.responses)).toContain('endpoint_model_mismatch');
  });
});
