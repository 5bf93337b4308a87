import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import supertest from 'supertest';
import { AgentProcess, bytes, eventually, nodeAgentToken, publishVersion, startAgent } from '../support/node-cache';
import { freePort } from '../support/ports';
import { RegistryProcess, startRegistryProcess } from '../support/registry-process';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { ADMIN_TOKEN, bearer } from '../support/test-registry';

/** The registry as a process that goes away and comes back on the same port. */
describe('a node agent while the registry is down', () => {
  let dataDir: string;
  let database: TestDatabase | undefined;
  let registry: RegistryProcess | undefined;
  let agent: AgentProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-outage-'));
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await agent?.kill();
    await registry?.kill();
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps serving ready versions, backs off, and reports again once the registry is back', async () => {
    const port = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(port), NODE_READY_TIMEOUT_SECONDS: '5', ...(database ? { DATABASE_URL: database.url } : {}) };
    registry = await startRegistryProcess(env);
    const http = supertest(registry.url);
    await http.post('/api/v1/projects').set(bearer(ADMIN_TOKEN)).send({ name: 'vision' }).expect(201);
    await http.post('/api/v1/projects/vision/models').set(bearer(ADMIN_TOKEN)).send({ name: 'resnet' }).expect(201);
    await publishVersion(registry.url, 'vision', 'resnet', [{ path: 'w.bin', data: bytes(200 * 1024, 5) }]);
    agent = await startAgent({ NODE_NAME: 'steady', REGISTRY_URL: registry.url, WHARF_TOKEN: await nodeAgentToken(registry.url), HEARTBEAT_INTERVAL: '100ms', HEARTBEAT_MAX_BACKOFF: '1600ms' });
    expect((await agent.get('/v1/versions/vision/resnet/1?wait=20s')).status).toBe(200);

    await registry.kill();
    await eventually(async () => (await agent!.get('/healthz')).body.registry === 'unreachable', 'the agent to notice the outage');
    const served = await agent.get('/v1/versions/vision/resnet/1');
    expect(served).toMatchObject({ status: 200, body: { state: 'ready', hit: true } });
    // A version it does not hold cannot be pulled now: the request times out with 503.
    expect((await agent.get('/v1/versions/vision/resnet/2?wait=300ms')).status).toBe(503);

    const failuresAt = async () => agent!.metric('wharf_agent_heartbeat_failures_total');
    const start = await failuresAt();
    const startedAt = Date.now();
    await eventually(async () => (await failuresAt()) - start >= 2, 'two more failed heartbeats', 20_000, 20);
    const elapsed = Date.now() - startedAt;
    // Awaits failures, not a 3 s window. Without backoff two more failures come within ~200 ms (100 ms
    // apart); with doubling, the whole delay between them is at least 100 ms · 2² · 0.8 (jitter) = 320 ms.
    expect(elapsed).toBeGreaterThanOrEqual(300);
    const failureLines = agent.output.filter((line) => line.includes('heartbeat failed'));
    expect(failureLines.length).toBeGreaterThanOrEqual(2);

    registry = await startRegistryProcess(env);
    await eventually(async () => (await agent!.get('/healthz')).body.registry === 'reachable', 'the agent to reach the registry again', 10_000);
    // The first heartbeat back may be a delta the registry answers with a resync (a reply lost
    // while it stopped); the agent's whole inventory follows at once: wait for it, not for a beat.
    const reported = async () => (await supertest(registry!.url).get('/api/v1/nodes/steady').set(bearer(ADMIN_TOKEN))).body;
    await eventually(async () => (await reported()).entries?.[0]?.state === 'ready', 'the node to report the version ready again', 10_000);
    expect(await reported()).toMatchObject({ ready: true, entries: [{ project: 'vision', model: 'resnet', version: 1, state: 'ready' }] });
  });
});
