import { randomBytes } from 'node:crypto';
import supertest from 'supertest';
import { loadConfig } from '../../src/config/config';
import { redisAvailable, startTestRedis, TestRedis } from '../support/redis';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';
import { createProject, memberToken, untilCached } from './helpers';

const randomToken = () => `wharf_${randomBytes(32).toString('base64url')}`;

/** TRUST_PROXY + X-Forwarded-For lets one test process be several clients. */
const from = (address: string) => ({ 'X-Forwarded-For': address });

/** Sends the requests `concurrency` at a time and answers their statuses in order. */
async function statuses(count: number, concurrency: number, send: (index: number) => Promise<supertest.Response>): Promise<number[]> {
  const seen: number[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      seen[index] = (await send(index)).status;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return seen;
}

const tally = (seen: number[]) => seen.reduce<Record<number, number>>((counts, status) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});

describe('failed authentication is limited per client address', () => {
  let registry: TestRegistry;
  let alice: { token: string };

  beforeAll(async () => {
    // The default budget (RATE_LIMIT_AUTH_FAILURES=100/60s); the read budget stays out of the way.
    registry = await startTestRegistry({ TRUST_PROXY: 'loopback' });
    await createProject(registry.http, 'guarded');
    alice = await memberToken(registry.http, 'guarded', 'alice', 'viewer');
    await untilCached(registry, alice.token, () => registry.http.get('/api/v1/projects/guarded').set(bearer(alice.token)).set(from('203.0.113.7')).expect(200));
  });
  afterAll(() => registry?.close());

  it('answers 429 to 1,400 random tokens from one client after the first 100, and never to another client', async () => {
    const seen = await statuses(1400, 8, () => registry.http.get('/api/v1/projects').set(bearer(randomToken())).set(from('203.0.113.7')));
    expect(tally(seen)).toEqual({ 401: 100, 429: 1300 });
    expect(seen.slice(0, 90).every((status) => status === 401)).toBe(true);

    const refused = await registry.http.get('/api/v1/projects').set(bearer(randomToken())).set(from('203.0.113.7')).expect(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(refused.body.detail).toMatch(/More than 100 failed authentications in 60 s/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.body.retryAfter).toBe(Number(refused.headers['retry-after']));
    expect(refused.headers['ratelimit-policy']).toBe('"auth-failures";q=100;w=60');

    // Another address: its own budget, untouched by the first one's guesses.
    await registry.http.get('/api/v1/projects').set(bearer(randomToken())).set(from('203.0.113.8')).expect(401);
    await registry.http.get('/api/v1/projects').set(bearer(ADMIN_TOKEN)).set(from('203.0.113.8')).expect(200);
  });

  it('still serves a token already verified from the blocked address, but looks up no new one there', async () => {
    // alice's token was verified before the flood: it keeps working from the shared address.
    await registry.http.get('/api/v1/projects/guarded').set(bearer(alice.token)).set(from('203.0.113.7')).expect(200);
    // A valid token never seen is not looked up while the address is over its budget, so the
    // answer cannot tell a guesser which of its tokens is good.
    const fresh = await memberToken(registry.http, 'guarded', 'bob', 'viewer');
    await registry.http.get('/api/v1/projects/guarded').set(bearer(fresh.token)).set(from('203.0.113.7')).expect(429);
    await registry.http.get('/api/v1/projects/guarded').set(bearer(fresh.token)).set(from('203.0.113.9')).expect(200);
  });

  it('counts malformed Authorization headers as failures too', async () => {
    await registry.http.get('/api/v1/projects').set('Authorization', 'Basic YWxhZGRpbjpvcGVuc2VzYW1l').set(from('203.0.113.7')).expect(429);
    await registry.http.get('/api/v1/projects').set('Authorization', 'Basic YWxhZGRpbjpvcGVuc2VzYW1l').set(from('203.0.113.10')).expect(401);
  });
});

describe('failed authentication budgets of revoked and expired tokens', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry({ RATE_LIMIT_AUTH_FAILURES: '2/60s' });
    await createProject(registry.http, 'stale');
  });
  afterAll(() => registry?.close());

  it('counts revoked and expired tokens as failures, then refuses the address', async () => {
    const revoked = await memberToken(registry.http, 'stale', 'rita', 'viewer');
    await registry.http.delete(`/api/v1/tokens/${revoked.id}`).set(bearer(ADMIN_TOKEN)).expect(204);
    const expired = await memberToken(registry.http, 'stale', 'eve', 'viewer', { expiresInDays: 1 });
    await registry.registry.dataSource.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);
    expect((await registry.http.get('/api/v1/projects').set(bearer(revoked.token))).body.code).toBe('token_revoked');
    expect((await registry.http.get('/api/v1/projects').set(bearer(expired.token))).body.code).toBe('token_expired');
    expect((await registry.http.get('/api/v1/projects').set(bearer(randomToken()))).body.code).toBe('rate_limited');
  });
});

describe('the failed-authentication budget configuration', () => {
  it('defaults to 100 per minute and refuses a malformed policy', () => {
    expect(loadConfig({}).RATE_LIMIT_AUTH_FAILURES).toBe('100/60s');
    expect(() => loadConfig({ RATE_LIMIT_AUTH_FAILURES: 'lots' })).toThrow(/RATE_LIMIT_AUTH_FAILURES="lots"/);
  });
});

// Registered only where a Redis can be had (see redisAvailable); CI always has one.
const describeWithRedis: (name: string, body: () => void) => void = redisAvailable() ? describe : () => undefined;

describeWithRedis('failed authentication shared by two replicas through Redis', () => {
  let redis: TestRedis;
  let first: TestRegistry;
  let second: TestRegistry;

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = {
      REDIS_URL: redis.url,
      RATE_LIMIT_REDIS_PREFIX: `wharf:test:${process.pid}:${randomBytes(4).toString('hex')}:`,
      RATE_LIMIT_AUTH_FAILURES: '4/60s',
      TRUST_PROXY: 'loopback',
    };
    first = await startTestRegistry(env);
    second = await startTestRegistry(env);
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await redis?.close();
  });

  it('refuses an address over its budget on either replica, whichever saw its failures', async () => {
    const guess = (replica: TestRegistry, address: string) => replica.http.get('/api/v1/projects').set(bearer(randomToken())).set(from(address));
    const seen: number[] = [];
    for (let i = 0; i < 4; i += 1) seen.push((await guess(i % 2 ? second : first, '198.51.100.1')).status);
    expect(seen).toEqual([401, 401, 401, 401]);
    await guess(second, '198.51.100.1').expect(429);
    await guess(first, '198.51.100.1').expect(429);
    await guess(first, '198.51.100.2').expect(401);
  });
});
