import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import supertest from 'supertest';
import { ConfigError, loadConfig } from '../../src/config/config';
import { clientKey, RateLimiter, type RateLimitName } from '../../src/ratelimit/rate-limiter';
import { eventually } from '../support/eventually';
import { RegistryProcess, startRegistryProcess } from '../support/registry-process';
import { createSharedDatabase, TestDatabase } from '../support/test-database';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';
import { commitWithFile } from '../support/fixtures';
import { createProject, memberToken } from './helpers';
import { redisAvailable, startTestRedis, TestRedis } from '../support/redis';

/** Resolves once the token's window of `name` has ended in an in-process registry: its next request starts a new one. */
function windowEnded(registry: TestRegistry, token: string, name: RateLimitName = 'write'): Promise<unknown> {
  const limiter = registry.registry.app.get(RateLimiter);
  return eventually(async () => (await limiter.peek(name, clientKey(`Bearer ${token}`, undefined))) === null, `the token's ${name} window to end`, { everyMs: 25 });
}

/** The same for registries that count in Redis: the window is a key that expires when it ends. */
function redisWindowEnded(redis: Redis, prefix: string, token: string, name: RateLimitName = 'write'): Promise<unknown> {
  const key = `${prefix}${name}:${clientKey(`Bearer ${token}`, undefined)}`;
  return eventually(async () => (await redis.exists(key)) === 0, `the token's ${name} window (${key}) to end in Redis`, { everyMs: 25 });
}

function expectRateLimited(response: supertest.Response, policy: string) {
  expect(response.status).toBe(429);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ code: 'rate_limited', status: 429, type: 'urn:wharf:problem:rate_limited' });
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(3);
  expect(response.body.retryAfter).toBe(retryAfter);
  expect(response.headers['ratelimit-policy']).toBe(policy);
  expect(response.headers['ratelimit']).toMatch(/^"write";r=0;t=[123]$/);
  return retryAfter;
}

describe('rate limits in one process (in-memory counters)', () => {
  let registry: TestRegistry;
  let alice: { token: string };
  let bob: { token: string };

  beforeAll(async () => {
    registry = await startTestRegistry({ RATE_LIMIT_WRITE: '5/3s', RATE_LIMIT_READ: '5/3s' });
    // Five writes of the admin token: exactly its budget.
    await createProject(registry.http, 'limits');
    alice = await memberToken(registry.http, 'limits', 'alice', 'editor');
    bob = await memberToken(registry.http, 'limits', 'bob', 'editor');
  });
  afterAll(() => registry?.close());

  it('answers 429 with Retry-After and RateLimit headers over the limit, per token, and resets when Retry-After says', async () => {
    const create = (token: string, name: string) => registry.http.post('/api/v1/projects/limits/models').set(bearer(token)).send({ name });

    const allowed = await create(alice.token, 'a1').expect(201);
    expect(allowed.headers['ratelimit-policy']).toBe('"write";q=5;w=3');
    expect(allowed.headers['ratelimit']).toMatch(/^"write";r=4;t=[123]$/);
    for (const name of ['a2', 'a3', 'a4', 'a5']) await create(alice.token, name).expect(201);
    const before = await registry.count('models');
    const refused = await create(alice.token, 'a6');
    expectRateLimited(refused, '"write";q=5;w=3');
    expect(await registry.count('models')).toBe(before);

    // Another token has its own budget; reads are another class.
    await create(bob.token, 'b1').expect(201);
    await registry.http.get('/api/v1/projects/limits/models').set(bearer(alice.token)).expect(200);

    // Retry-After (checked above against the policy) ends where the window does: await that end.
    await windowEnded(registry, alice.token);
    await create(alice.token, 'a6').expect(201);
  });

  it('limits calls without a token by client IP, before authentication', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) statuses.push((await registry.http.get('/api/v1/projects')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });

  it('never limits health and metrics probes', async () => {
    for (let i = 0; i < 12; i += 1) {
      const response = await registry.http.get(i % 2 ? '/healthz' : '/metrics').expect(200);
      expect(response.headers['ratelimit']).toBeUndefined();
    }
  });
});

describe('rate limits on the resolve fast path', () => {
  let registry: TestRegistry;
  let reader: { token: string };

  beforeAll(async () => {
    registry = await startTestRegistry({ RATE_LIMIT_READ: '5/60s' });
    await createProject(registry.http, 'hot');
    await registry.http.post('/api/v1/projects/hot/models').set(bearer(ADMIN_TOKEN)).send({ name: 'm' }).expect(201);
    await registry.http.post('/api/v1/projects/hot/models/m/versions').set(bearer(ADMIN_TOKEN)).send({}).expect(201);
    await commitWithFile(registry.http, '/api/v1/projects/hot/models/m/versions/1', 'hot weights');
    reader = await memberToken(registry.http, 'hot', 'reader', 'viewer');
  });
  afterAll(() => registry?.close());

  it('counts resolves answered from the in-process cache against the read budget like any other', async () => {
    const statuses: number[] = [];
    // The first resolve fills the caches; the next ones are answered by the fast path.
    for (let i = 0; i < 7; i += 1) {
      statuses.push((await registry.http.get('/api/v1/projects/hot/models/m/resolve?ref=@1').set(bearer(reader.token))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const refused = await registry.http.get('/api/v1/projects/hot/models/m/resolve?ref=@1').set(bearer(reader.token));
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: 'rate_limited', status: 429, type: 'urn:wharf:problem:rate_limited' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['ratelimit-policy']).toBe('"read";q=5;w=60');
    expect(refused.headers['ratelimit']).toMatch(/^"read";r=0;t=\d+$/);
  });
});

describe('rate limit configuration', () => {
  it('refuses a malformed policy, naming the variable', () => {
    expect(() => loadConfig({ RATE_LIMIT_WRITE: '300 per minute' })).toThrow(ConfigError);
    expect(() => loadConfig({ RATE_LIMIT_WRITE: '300 per minute' })).toThrow(/RATE_LIMIT_WRITE="300 per minute"/);
    expect(() => loadConfig({ REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(/REDIS_URL/);
    expect(loadConfig({ RATE_LIMIT_UPLOAD: '0' }).RATE_LIMIT_UPLOAD).toBe('0');
  });

  it('keeps serving when Redis cannot be reached', async () => {
    const registry = await startTestRegistry({ REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_READ: '1/60s' });
    try {
      for (let i = 0; i < 3; i += 1) await registry.http.get('/api/v1/projects').set(bearer(ADMIN_TOKEN)).expect(200);
    } finally {
      await registry.close();
    }
  });
});

// Registered only where a Redis can be had (see redisAvailable); CI always has one.
const describeWithRedis: (name: string, body: () => void) => void = redisAvailable() ? describe : () => undefined;

describeWithRedis('rate limits shared by two registry processes through Redis', () => {
  const prefix = `wharf:test:${process.pid}:${randomBytes(4).toString('hex')}:`;
  let database: TestDatabase;
  let first: RegistryProcess;
  let second: RegistryProcess;
  let redis: Redis;
  let server: TestRedis;

  beforeAll(async () => {
    server = await startTestRedis();
    const REDIS_URL = server.url;
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    database = await createSharedDatabase();
    const env = { DATABASE_URL: database.url, REDIS_URL, RATE_LIMIT_REDIS_PREFIX: prefix, RATE_LIMIT_WRITE: '4/3s' };
    first = await startRegistryProcess(env);
    second = await startRegistryProcess(env);
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await database?.drop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await server?.close();
  });

  it('refuses the request over the limit on either process and accepts again after Retry-After', async () => {
    const replicas = [supertest(first.url), supertest(second.url)];
    const setup = await replicas[0].post('/api/v1/projects').set(bearer(ADMIN_TOKEN)).send({ name: 'shared' }).expect(201);
    expect(setup.headers['ratelimit']).toBeDefined();
    await redisWindowEnded(redis, prefix, ADMIN_TOKEN); // a fresh window for the admin token

    const create = (replica: number, name: string) => replicas[replica].post('/api/v1/projects/shared/models').set(bearer(ADMIN_TOKEN)).send({ name });
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await create(i % 2, `m${i}`)).status);
    expect(statuses).toEqual([201, 201, 201, 201]);
    const onSecond = await create(1, 'over-1');
    const onFirst = await create(0, 'over-2');
    expectRateLimited(onSecond, '"write";q=4;w=3');
    expectRateLimited(onFirst, '"write";q=4;w=3');
    // The counter lives in Redis under this test's prefix, with an expiry.
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(await redis.pttl(keys.find((key) => key.includes('write:token:'))!)).toBeGreaterThan(0);

    await redisWindowEnded(redis, prefix, ADMIN_TOKEN);
    await create(1, 'after-1').expect(201);
    await create(0, 'after-2').expect(201);
  });
});

describe('rate limits behind a reverse proxy', () => {
  it('keys calls without a token on X-Forwarded-For only when the proxy is trusted', async () => {
    const statuses = async (registry: TestRegistry) => {
      const seen: number[] = [];
      for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
        seen.push((await registry.http.get('/api/v1/projects').set('X-Forwarded-For', client)).status);
      }
      return seen;
    };
    const trusting = await startTestRegistry({ RATE_LIMIT_READ: '1/60s', TRUST_PROXY: 'loopback' });
    const distrusting = await startTestRegistry({ RATE_LIMIT_READ: '1/60s' });
    try {
      // Trusted: three clients, three budgets of one. Not trusted: one loopback client.
      expect(await statuses(trusting)).toEqual([401, 401, 401]);
      expect(await statuses(distrusting)).toEqual([401, 429, 429]);
    } finally {
      await trusting.close();
      await distrusting.close();
    }
  });

  it('refuses a malformed TRUST_PROXY', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'yes please!' })).toThrow(/TRUST_PROXY="yes please!"/);
  });
});

describe('rate limits of node agents', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry({ RATE_LIMIT_WRITE: '2/60s', RATE_LIMIT_AGENT: '5/60s' });
  });
  afterAll(() => registry?.close());

  it('counts heartbeats in their own class, apart from the writes of the same token', async () => {
    const heartbeat = (node: string) =>
      registry.http
        .put(`/api/v1/nodes/${node}`)
        .set(bearer(ADMIN_TOKEN))
        .send({ labels: {}, capacityBytes: 1000, budgetBytes: 500, usedBytes: 0, entries: [], demands: [] });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await heartbeat(`node-${i}`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = await heartbeat('node-x');
    expect(refused.headers['ratelimit-policy']).toBe('"agent";q=5;w=60');
    // The same token's ordinary writes have their own budget, untouched by the heartbeats.
    await registry.http.post('/api/v1/projects').set(bearer(ADMIN_TOKEN)).send({ name: 'still-writing' }).expect(201);
  });
});

describe('rate limits of file downloads', () => {
  let registry: TestRegistry;
  let viewer: { token: string };
  const files = '/api/v1/projects/pulls/models/m/versions/1/files';

  beforeAll(async () => {
    registry = await startTestRegistry({ RATE_LIMIT_READ: '3/60s', RATE_LIMIT_DOWNLOAD: '6/60s' });
    await createProject(registry.http, 'pulls');
    await registry.http.post('/api/v1/projects/pulls/models').set(bearer(ADMIN_TOKEN)).send({ name: 'm' }).expect(201);
    await registry.http.post('/api/v1/projects/pulls/models/m/versions').set(bearer(ADMIN_TOKEN)).send({}).expect(201);
    await commitWithFile(registry.http, '/api/v1/projects/pulls/models/m/versions/1', 'weights of the model');
    viewer = await memberToken(registry.http, 'pulls', 'puller', 'viewer');
  });
  afterAll(() => registry?.close());

  it('counts a file’s bytes (GET and HEAD, ranged or not) in their own class, apart from the reads of the same token', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await registry.http.get(`${files}/weights.bin`).set(bearer(viewer.token)).set('Range', `bytes=${i}-${i + 2}`)).status);
    for (let i = 0; i < 3; i += 1) statuses.push((await registry.http.head(`${files}/weights.bin`).set(bearer(viewer.token))).status);
    // Six range requests are more than the read budget of 3: none of them was counted there.
    expect(statuses).toEqual([206, 206, 206, 200, 200, 200]);
    const refused = await registry.http.get(`${files}/weights.bin`).set(bearer(viewer.token));
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('rate_limited');
    expect(refused.headers['ratelimit-policy']).toBe('"download";q=6;w=60');
    // The manifest is a read, with the read budget still whole.
    for (let i = 0; i < 3; i += 1) await registry.http.get(files).set(bearer(viewer.token)).expect(200);
    expect((await registry.http.get(files).set(bearer(viewer.token))).headers['ratelimit-policy']).toBe('"read";q=3;w=60');
  });
});
