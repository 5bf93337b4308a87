import { createProject, memberToken } from '../governance/helpers';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';
import { ExecutorProcess, startExecutorProcess } from './executor-process';
import { ModelServer, startModelServer } from './model-server';

/** The executor presents this to the registry's TokenReview endpoint. */
const REVIEWER = 'executor-reviewer-token-0123456789abcdef';

const get = async (url: string, token?: string) => {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, headers: response.headers, body: await response.text() };
};

jest.setTimeout(120_000);

describe('executor callers: registry tokens and per-client limits (real registry, real processes)', () => {
  let registry: TestRegistry;
  let model: ModelServer;
  let executor: ExecutorProcess;
  let alice: { token: string; id: string };
  let outsider: { token: string; id: string };

  beforeAll(async () => {
    [registry, model] = await Promise.all([startTestRegistry({ TOKENREVIEW_BEARER_TOKEN: REVIEWER }), startModelServer()]);
    await createProject(registry.http, 'vision');
    await createProject(registry.http, 'speech');
    alice = await memberToken(registry.http, 'vision', 'alice', 'viewer');
    outsider = await memberToken(registry.http, 'speech', 'bob', 'admin');
    executor = await startExecutorProcess({
      UPSTREAM_URL: model.url,
      REGISTRY_URL: registry.url,
      REGISTRY_TOKENREVIEW_TOKEN: REVIEWER,
      PROJECT: 'vision',
      TOKEN_CACHE_TTL: '1s',
      RATE_LIMIT: '30/60s',
      SHUTDOWN_DELAY: '0s',
    });
  });
  afterAll(async () => {
    await executor?.stop();
    await Promise.all([registry?.close(), model?.close()]);
  });

  it('refuses a call without a token, with a bad token, and with a token of another project', async () => {
    const before = model.seen.get('/v1/models/m:predict') ?? 0;
    const none = await get(`${executor.url}/v1/models/m:predict`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(JSON.parse(none.body)).toMatchObject({ code: 'unauthenticated', type: 'urn:wharf:problem:unauthenticated' });
    expect((await get(`${executor.url}/v1/models/m:predict`, 'wharf_not_a_real_token')).status).toBe(401);
    const foreign = await get(`${executor.url}/v1/models/m:predict`, outsider.token);
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body).detail).toMatch(/no role in project vision/);
    expect(model.seen.get('/v1/models/m:predict') ?? 0).toBe(before);
  });

  it('lets a member through, then refuses the token within 2 s of its revocation', async () => {
    const token = await memberToken(registry.http, 'vision', 'carol', 'editor');
    const ok = await get(`${executor.url}/v1/revocation`, token.token);
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('ok GET /v1/revocation');
    await registry.http.delete(`/api/v1/tokens/${token.id}`).set(bearer(ADMIN_TOKEN)).expect(204);
    const revokedAt = performance.now();
    // Calls keep coming every 100 ms (each would refresh a cache that never expired); the token
    // must stop working. (At most ~20 calls in 2 s: under the 30-per-minute limit.)
    let refusedAfter: number | undefined;
    for (let calls = 0; refusedAfter === undefined && calls < 50; calls += 1) {
      const status = (await get(`${executor.url}/v1/revocation`, token.token)).status;
      if (status === 401) refusedAfter = performance.now() - revokedAt;
      else {
        expect(status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    if (refusedAfter === undefined) throw new Error('the revoked token was never refused');
    process.stdout.write(`revoked token refused after ${refusedAfter.toFixed(0)} ms\n`);
    expect(refusedAfter).toBeLessThan(2000);
  });

  it('answers 429 with Retry-After to a client over its limit, and not to another client', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 31; i += 1) statuses.push((await get(`${executor.url}/v1/limited`, alice.token)).status);
    expect(statuses).toEqual([...Array(30).fill(200), 429]);
    const limited = await get(`${executor.url}/v1/limited`, alice.token);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(limited.body)).toMatchObject({ code: 'rate_limited' });
    expect(model.seen.get('/v1/limited')).toBe(30);
    const dave = await memberToken(registry.http, 'vision', 'dave', 'viewer');
    expect((await get(`${executor.url}/v1/limited`, dave.token)).status).toBe(200);
    const metrics = await get(`${executor.url}/metrics`);
    expect(metrics.body).toMatch(/wharf_executor_refused_total\{reason="rate_limited"\} 2/);
  });
});
