import { expectProblem } from '../support/fixtures';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

describe('health, metrics and request ids', () => {
  let wharf: TestRegistry;
  beforeAll(async () => {
    wharf = await startTestRegistry();
  });
  afterAll(async () => {
    await wharf?.close();
  });

  it('answers liveness and readiness without a token', async () => {
    expect((await wharf.http.get('/healthz').expect(200)).body).toEqual({ status: 'ok' });
    expect((await wharf.http.get('/readyz').expect(200)).body).toEqual({ status: 'ready', database: 'ok', storage: 'ok' });
  });

  it('times requests by route template and status in Prometheus format', async () => {
    await wharf.http.get('/api/v1/projects/some-project/models').set(bearer(ADMIN_TOKEN));
    await wharf.http.get('/api/v1/projects').set(bearer(ADMIN_TOKEN)).expect(200);
    const metrics = await wharf.http.get('/metrics').expect(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/process_cpu_seconds_total/);
    expect(metrics.text).toMatch(
      /wharf_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/projects",status="200"\} [1-9]/,
    );
    expect(metrics.text).toMatch(
      /wharf_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/projects\/:project\/models",status="404"\} 1/,
    );
    expect(metrics.text).not.toContain('some-project');
  });

  it('keeps a sane client request id and echoes it in the problem document', async () => {
    const response = await wharf.http.get('/api/v1/projects').set('X-Request-Id', 'client-req-42');
    expect(response.headers['x-request-id']).toBe('client-req-42');
    expect(response.body.requestId).toBe('client-req-42');
  });

  it('replaces an unsafe request id with its own', async () => {
    const response = await wharf.http.get('/healthz').set('X-Request-Id', 'bad id\twith spaces');
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with a problem document', async () => {
    expectProblem(await wharf.http.get('/api/v1/nothing-here').set(bearer(ADMIN_TOKEN)), 404, 'route_not_found');
  });

  it('refuses a JSON body over the limit with 413', async () => {
    const response = await wharf.http
      .post('/api/v1/projects')
      .set(bearer(ADMIN_TOKEN))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ name: 'big', description: 'x'.repeat(2 * 1024 * 1024) }));
    expectProblem(response, 413, 'payload_too_large');
  });
});

describe('when the database goes away', () => {
  let wharf: TestRegistry;
  beforeAll(async () => {
    wharf = await startTestRegistry();
    await wharf.registry.dataSource.destroy();
  });
  afterAll(async () => {
    await wharf?.close();
  });

  it('reports not ready', async () => {
    expectProblem(await wharf.http.get('/readyz'), 503, 'database_unavailable');
  });

  it('answers 500 without a stack trace or driver message', async () => {
    const response = await wharf.http.get('/api/v1/projects').set(bearer(ADMIN_TOKEN));
    expectProblem(response, 500, 'internal_error');
    expect(response.text).not.toMatch(/TypeORM|Connection|pg|\.ts:|\n\s+at /);
    expect(response.body.requestId).toEqual(expect.any(String));
  });
});
