// The extender's index across replicas: two registry processes on one Postgres database, agents
// reporting to one, kube-scheduler asking the other. The other learns each heartbeat by the
// nodes trigger's NOTIFY, without a query per call; a replica started later loads what is there.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import supertest from 'supertest';
import { eventually } from '../support/eventually';
import { createModel, createProject } from '../support/fixtures';
import { bytes, nodeAgentToken, publishVersion } from '../support/node-cache';
import { RegistryProcess, startRegistryProcess } from '../support/registry-process';
import { createSharedDatabase, TestDatabase } from '../support/test-database';
import { bearer } from '../support/test-registry';

const TOKEN = 'replica_scheduler_token_0123456789';
const MODEL_BYTES = 32 * 1024;
let database: TestDatabase;
let dataDir: string;
let env: Record<string, string>;
const processes: RegistryProcess[] = [];
let agentToken: string;

const prioritize = (registry: RegistryProcess, names: string[]) =>
  supertest(registry.url).post('/api/v1/scheduler/prioritize').set(bearer(TOKEN))
    .send({ Pod: { metadata: { annotations: { 'wharf.dev/model-version': 'fleet/llama@1' } } }, NodeNames: names }).expect(200)
    .then((response) => (response.body as { Host: string; Score: number }[]).map((entry) => entry.Score));

const heartbeat = (registry: RegistryProcess, node: string, state: 'ready' | 'none') =>
  supertest(registry.url).put(`/api/v1/nodes/${node}`).set(bearer(agentToken)).send({
    labels: {}, capacityBytes: 10 * MODEL_BYTES, budgetBytes: 4 * MODEL_BYTES, usedBytes: 0, demands: [],
    entries: state === 'ready' ? [{ project: 'fleet', model: 'llama', version: 1, state: 'ready', bytesDone: MODEL_BYTES, bytesTotal: MODEL_BYTES }] : [],
  }).expect(200);

beforeAll(async () => {
  database = await createSharedDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-sched-replicas-'));
  env = { DATABASE_URL: database.url, DATA_DIR: dataDir, SCHEDULER_EXTENDER_TOKEN: TOKEN, SCHEDULER_MIN_MODEL_BYTES: '0', SCHEDULER_FULL_SCORE_BYTES: String(MODEL_BYTES), GC_INTERVAL_SECONDS: '0' };
  processes.push(await startRegistryProcess(env), await startRegistryProcess(env));
  const [agents] = processes;
  await createProject(agents.url, 'fleet');
  await createModel(agents.url, 'fleet', 'llama');
  await publishVersion(agents.url, 'fleet', 'llama', [{ path: 'weights.bin', data: bytes(MODEL_BYTES, 3) }]);
  agentToken = await nodeAgentToken(agents.url);
}, 90_000);

afterAll(async () => {
  for (const registry of processes) await registry.stop();
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it("sees heartbeats taken by another replica: a node's version arriving and leaving", async () => {
  const [agents, scheduler] = processes;
  await heartbeat(agents, 'gpu-a', 'none');
  await heartbeat(agents, 'gpu-b', 'none');
  await eventually(async () => (await prioritize(scheduler, ['gpu-a', 'gpu-b'])).join() === '0,0', 'both nodes known, cold');
  await heartbeat(agents, 'gpu-a', 'ready');
  // 1 of 2 holds it: 10 × (0.5 + 0.5 × 1/2) = 7.5 → 8.
  await eventually(async () => (await prioritize(scheduler, ['gpu-a', 'gpu-b'])).join() === '8,0', 'the other replica to see gpu-a warm', { timeoutMs: 5_000 });
  await heartbeat(agents, 'gpu-a', 'none');
  await eventually(async () => (await prioritize(scheduler, ['gpu-a', 'gpu-b'])).join() === '0,0', 'the other replica to see gpu-a evicted', { timeoutMs: 5_000 });
});

it('a replica started later loads the cache state already in the database', async () => {
  const [agents] = processes;
  await heartbeat(agents, 'gpu-b', 'ready');
  const late = await startRegistryProcess(env);
  processes.push(late);
  expect(await prioritize(late, ['gpu-a', 'gpu-b'])).toEqual([0, 8]);
});
