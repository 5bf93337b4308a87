import { brotliCompressSync, gzipSync } from 'node:zlib';
import { rawRequest } from '../support/raw-http';
import { createModel, createProject, createToken, expectProblem } from '../support/fixtures';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

/**
 * Requests a careless client or an attacker sends: each must be refused with a 4xx
 * problem, and none may store anything.
 */
describe('bad input at the edge', () => {
  let wharf: TestRegistry;
  let agentToken: string;
  const TABLES = ['projects', 'models', 'model_versions', 'tags', 'tag_history', 'nodes', 'node_cache_entries', 'warmups', 'endpoints'];
  const ml = (path: string) => `/api/v1/projects/ml${path}`;

  async function counts(): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const table of TABLES) result[table] = await wharf.count(table);
    return result;
  }

  /** The project's quota as stored, to prove a refused PUT left it alone. */
  const quota = async () => (await wharf.http.get(ml('/quota')).set(bearer(ADMIN_TOKEN)).expect(200)).body;

  beforeAll(async () => {
    wharf = await startTestRegistry();
    await createProject(wharf, 'ml');
    await createModel(wharf, 'ml', 'm1');
    await wharf.http.put(ml('/quota')).set(bearer(ADMIN_TOKEN)).send({ storage: '1Gi', gpu: 2 }).expect(200);
    const agent = await wharf.http
      .post('/api/v1/tokens')
      .set(bearer(ADMIN_TOKEN))
      .send({ name: 'agents', principal: 'node-agents', principalKind: 'node-agent' });
    expect(agent.status).toBe(201);
    agentToken = agent.body.token;
    await createToken(wharf, 'someone');
  }, 180_000);
  afterAll(async () => {
    await wharf?.close();
  });

  describe('a JSON route refuses a body that is not JSON', () => {
    it.each([
      ['form-urlencoded', 'application/x-www-form-urlencoded', 'storage=5Gi'],
      ['text/plain', 'text/plain', '{"storage":"5Gi"}'],
      ['no Content-Type', undefined, '{"storage":"5Gi"}'],
      ['multipart/form-data', 'multipart/form-data; boundary=BB', '--BB\r\nContent-Disposition: form-data; name="storage"\r\n\r\n5Gi\r\n--BB--\r\n'],
    ])('PUT quota sent as %s answers 415 and keeps the quota', async (_, type, body) => {
      const before = await quota();
      const request = wharf.http.put(ml('/quota')).set(bearer(ADMIN_TOKEN));
      if (type) request.set('Content-Type', type);
      expectProblem(await request.send(Buffer.from(body)), 415, 'unsupported_media_type');
      expect(await quota()).toEqual(before);
    });

    it('POST versions sent as text/plain answers 415 and creates no version', async () => {
      const before = await counts();
      const response = await wharf.http.post(ml('/models/m1/versions')).set(bearer(ADMIN_TOKEN)).set('Content-Type', 'text/plain').send('{"description":"x"}');
      expectProblem(response, 415, 'unsupported_media_type');
      expect(await counts()).toEqual(before);
    });

    it('documents the 415 on every operation that takes a JSON body', async () => {
      const document = (await wharf.http.get('/docs-json').expect(200)).body as {
        paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> }; responses: Record<string, { description: string }> }>>;
      };
      const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.entries(methods)
          .filter(([, operation]) => operation.requestBody?.content['application/json'])
          .map(([method, operation]) => ({ name: `${method} ${path}`, documented: operation.responses['415']?.description.includes('unsupported_media_type') ?? false })),
      );
      expect(operations.length).toBeGreaterThan(15);
      expect(operations.filter((operation) => !operation.documented)).toEqual([]);
    });

    it('accepts a +json media type and a charset parameter', async () => {
      await wharf.http
        .put(ml('/quota'))
        .set(bearer(ADMIN_TOKEN))
        .set('Content-Type', 'application/merge-patch+json')
        .send(JSON.stringify({ storage: '1Gi', gpu: 2 }))
        .expect(200);
      await wharf.http
        .put(ml('/quota'))
        .set(bearer(ADMIN_TOKEN))
        .set('Content-Type', 'application/json; charset=utf-8')
        .send(JSON.stringify({ storage: '1Gi', gpu: 2 }))
        .expect(200);
    });

    it('still accepts a JSON route called with no body at all, chunked or not', async () => {
      // node:http sends a bodiless POST as an empty chunked body; with Content-Length: 0 it is bodiless outright.
      const chunked = await rawRequest(wharf.url, { method: 'POST', path: ml('/models/m1/versions'), headers: bearer(ADMIN_TOKEN) });
      expect(chunked.status).toBe(201);
      const empty = await rawRequest(wharf.url, { method: 'POST', path: ml('/models/m1/versions'), headers: bearer(ADMIN_TOKEN), body: Buffer.alloc(0) });
      expect(empty.status).toBe(201);
    });

    it('refuses a chunked body without a Content-Type with 415', async () => {
      const before = await counts();
      const response = await rawRequest(wharf.url, {
        method: 'POST',
        path: ml('/models/m1/versions'),
        headers: { ...bearer(ADMIN_TOKEN), 'Transfer-Encoding': 'chunked' },
        body: Buffer.from('{"description":"x"}'),
      });
      expectProblem({ ...response, body: JSON.parse(response.text) }, 415, 'unsupported_media_type');
      expect(await counts()).toEqual(before);
    });
  });

  describe('text the database cannot hold', () => {
    it.each([
      ['a NUL in a model name', '/models', { name: 'a\u0000b' }],
      ['a NUL in a description', '/models', { name: 'nul-desc', description: 'a\u0000b' }],
      ['a NUL in a label value', '/models', { name: 'nul-label', labels: { team: 'a\u0000' } }],
      ['a NUL in a metadata key', '/models/m1/versions', { metadata: { 'a\u0000': 1 } }],
      ['a NUL in a metadata value', '/models/m1/versions', { metadata: { a: 'b\u0000' } }],
      ['a NUL in a version description', '/models/m1/versions', { description: '\u0000' }],
    ])('refuses %s with 400 and stores nothing', async (_, path, body) => {
      const before = await counts();
      expectProblem(await wharf.http.post(ml(path)).set(bearer(ADMIN_TOKEN)).send(body), 400, 'validation_failed');
      expect(await counts()).toEqual(before);
    });

    it.each([
      ['a lone high surrogate in metadata', '/models/m1/versions', '{"metadata":{"a":"\\ud800"}}'],
      ['a lone low surrogate in a metadata key', '/models/m1/versions', '{"metadata":{"\\udc00":1}}'],
      ['a lone surrogate in a description', '/models/m1/versions', '{"description":"x\\ud800y"}'],
      ['a lone surrogate in a model name', '/models', '{"name":"\\ud800"}'],
    ])('refuses %s with 400 and stores nothing', async (_, path, raw) => {
      const before = await counts();
      const response = await wharf.http.post(ml(path)).set(bearer(ADMIN_TOKEN)).set('Content-Type', 'application/json').send(raw);
      expectProblem(response, 400, 'validation_failed');
      expect(await counts()).toEqual(before);
    });

    it.each([
      ['a model list prefix', '/api/v1/projects/ml/models?prefix=%00'],
      ['a version list cursor', '/api/v1/projects/ml/models/m1/versions?cursor=%00'],
      ['a project list prefix', '/api/v1/projects?prefix=a%00'],
      ['an audit filter', '/api/v1/audit?actor=%00'],
    ])('refuses a NUL in %s with 400', async (_, url) => {
      const response = await wharf.http.get(url).set(bearer(ADMIN_TOKEN));
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    });
  });

  it.each([
    ['__proto__ in a new version', 'post', '/models/m1/versions', '{"__proto__":{"polluted":true}}'],
    ['constructor in a model update', 'patch', '/models/m1', '{"constructor":{"prototype":{"polluted":true}}}'],
    ['__proto__ inside metadata', 'post', '/models/m1/versions', '{"metadata":{"a":{"__proto__":{"x":1}}}}'],
    ['toString beside a quota', 'put', '/quota', '{"toString":"x","storage":"5Gi"}'],
    ['constructor as a plain value', 'post', '/models/m1/versions', '{"constructor":1}'],
  ] as const)('refuses a prototype key (%s) with 400 and stores nothing', async (_, method, path, raw) => {
    const before = await counts();
    const quotaBefore = await quota();
    const response = await wharf.http[method](ml(path)).set(bearer(ADMIN_TOKEN)).set('Content-Type', 'application/json').send(raw);
    expectProblem(response, 400, 'validation_failed');
    expect(await counts()).toEqual(before);
    expect(await quota()).toEqual(quotaBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  describe('explicit null where a value is expected', () => {
    it.each([
      ['a model description', 'post', '/models', { name: 'null-desc', description: null }],
      ['model labels', 'post', '/models', { name: 'null-labels', labels: null }],
      ['a version description', 'post', '/models/m1/versions', { description: null }],
      ['version metadata', 'post', '/models/m1/versions', { metadata: null }],
      ['labels on update', 'patch', '/models/m1', { labels: null }],
      ['a description on update', 'patch', '/models/m1', { description: null }],
      ['project labels', 'patch', '', { labels: null }],
    ] as const)('refuses null for %s with 400 and stores nothing', async (_, method, path, body) => {
      const before = await counts();
      const shown = (await wharf.http.get(ml('/models/m1')).set(bearer(ADMIN_TOKEN))).body;
      expectProblem(await wharf.http[method](ml(path)).set(bearer(ADMIN_TOKEN)).send(body), 400, 'validation_failed');
      expect(await counts()).toEqual(before);
      expect((await wharf.http.get(ml('/models/m1')).set(bearer(ADMIN_TOKEN))).body).toEqual(shown);
    });

    it('still takes null where the API documents it (a quota without a limit)', async () => {
      await wharf.http.put(ml('/quota')).set(bearer(ADMIN_TOKEN)).send({ storage: null, gpu: 2 }).expect(200);
      await wharf.http.put(ml('/quota')).set(bearer(ADMIN_TOKEN)).send({ storage: '1Gi', gpu: 2 }).expect(200);
    });
  });

  it('refuses JSON nested 5,000 deep with 400 and stores nothing', async () => {
    const before = await counts();
    const deep = '{"metadata":' + '{"a":'.repeat(5000) + '1' + '}'.repeat(5000) + '}';
    const response = await wharf.http.post(ml('/models/m1/versions')).set(bearer(ADMIN_TOKEN)).set('Content-Type', 'application/json').send(deep);
    expectProblem(response, 400, 'validation_failed');
    const deepArray = '{"metadata":{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}}';
    const arrays = await wharf.http.post(ml('/models/m1/versions')).set(bearer(ADMIN_TOKEN)).set('Content-Type', 'application/json').send(deepArray);
    expectProblem(arrays, 400, 'validation_failed');
    expect(await counts()).toEqual(before);
  });

  const compressed = (encoding: string, body: Buffer) =>
    rawRequest(wharf.url, {
      method: 'POST',
      path: ml('/models'),
      headers: { ...bearer(ADMIN_TOKEN), 'Content-Type': 'application/json', 'Content-Encoding': encoding },
      body,
    });

  it.each([
    ['gzip', Buffer.from('this is not gzip at all')],
    ['deflate', Buffer.from('neither is this deflate')],
    ['br', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x01])],
    ['gzip', gzipSync(Buffer.from('{"name":"zipped-but-truncated"}')).subarray(0, 12)],
  ])('refuses an invalid %s body with 400 and stores nothing', async (encoding, body) => {
    const before = await counts();
    const response = await compressed(encoding, body);
    expectProblem({ ...response, body: JSON.parse(response.text) }, 400, 'validation_failed');
    expect(await counts()).toEqual(before);
  });

  it('refuses a Content-Encoding it does not know with 415', async () => {
    const response = await compressed('compress', Buffer.from('{"name":"x"}'));
    expectProblem({ ...response, body: JSON.parse(response.text) }, 415, 'unsupported_media_type');
  });

  it('still reads a valid compressed JSON body', async () => {
    expect((await compressed('br', brotliCompressSync(Buffer.from('{"name":"zipped"}')))).status).toBe(201);
    expect((await compressed('gzip', gzipSync(Buffer.from('{"name":"gzipped"}')))).status).toBe(201);
  });

  it.each([
    ['before', 'tags/latest/history?before=99999999999999999999'],
    ['before', 'tags/latest/history?before=2147483648'],
    ['limit', 'tags/latest/history?limit=99999999999999999999'],
    ['limit', 'versions?limit=1e400'],
  ])('refuses an out-of-range integer in %s with 400', async (_, path) => {
    expectProblem(await wharf.http.get(ml(`/models/m1/${path}`)).set(bearer(ADMIN_TOKEN)), 400, 'validation_failed');
  });

  it.each([
    ['an empty array entry', [[]]],
    ['a string entry', ['x']],
    ['a null entry', [null]],
    ['a number entry', [1]],
  ])('refuses a node heartbeat with %s with 400 and stores nothing', async (_, entries) => {
    const before = await counts();
    const response = await wharf.http
      .put('/api/v1/nodes/node-a')
      .set(bearer(agentToken))
      .send({ labels: {}, capacityBytes: 10, budgetBytes: 10, usedBytes: 0, entries, demands: [] });
    expectProblem(response, 400, 'validation_failed');
    expect(await counts()).toEqual(before);
  });
});
