import { readFile, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import supertest from 'supertest';
import { AgentProcess, bytes, eventually, localState, nodeAgentToken, publishVersion, sha256, startAgent } from '../support/node-cache';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * One registry, node agents as real child processes with their own names, labels and cache
 * directories, pulling real bytes over HTTP.
 */
describe('node agents against a registry', () => {
  let wharf: TestRegistry;
  let token: string;
  const agents: AgentProcess[] = [];
  const admin = () => supertest(wharf.url);
  const files = {
    v1: [
      { path: 'config.json', data: bytes(3 * KIB, 11) },
      { path: 'weights/model.bin', data: bytes(700 * KIB, 12) },
    ],
    v2: [
      { path: 'config.json', data: bytes(3 * KIB, 11) },
      { path: 'weights/model.bin', data: bytes(600 * KIB, 13) },
    ],
  };

  async function agent(name: string, env: Record<string, string> = {}): Promise<AgentProcess> {
    const started = await startAgent({ NODE_NAME: name, REGISTRY_URL: wharf.url, WHARF_TOKEN: token, ...env });
    agents.push(started);
    return started;
  }

  beforeAll(async () => {
    wharf = await startTestRegistry({ NODE_READY_TIMEOUT_SECONDS: '3' });
    token = await nodeAgentToken(wharf.url);
    await admin().post('/api/v1/projects').set(bearer(ADMIN_TOKEN)).send({ name: 'vision' }).expect(201);
    for (const model of ['resnet', 'bert', 'big']) {
      await admin().post('/api/v1/projects/vision/models').set(bearer(ADMIN_TOKEN)).send({ name: model }).expect(201);
    }
    await publishVersion(wharf.url, 'vision', 'resnet', files.v1);
    await publishVersion(wharf.url, 'vision', 'resnet', files.v2);
  });
  afterAll(async () => {
    await Promise.all(agents.map((started) => started.kill()));
    await wharf?.close();
  });

  it('warms exactly the nodes a selector matches, lists them as locations and follows a moved tag', async () => {
    const [a, b, c] = await Promise.all([
      agent('gpu-a', { NODE_LABELS: 'gpu=a100,zone=a' }),
      agent('gpu-b', { NODE_LABELS: 'gpu=a100,zone=b' }),
      agent('cpu-c', { NODE_LABELS: 'gpu=t4' }),
    ]);
    await admin().put('/api/v1/projects/vision/models/resnet/tags/prod').set(bearer(ADMIN_TOKEN)).send({ version: 1 }).expect(200);
    const warmup = await admin()
      .post('/api/v1/projects/vision/warmups')
      .set(bearer(ADMIN_TOKEN))
      .send({ model: 'resnet', ref: 'prod', selector: { matchLabels: { gpu: 'a100' } } });
    expect(warmup.status).toBe(201);

    const locations = async (version: number) =>
      (await admin().get(`/api/v1/projects/vision/models/resnet/versions/${version}/locations`).set(bearer(ADMIN_TOKEN))).body.items.map((item: { node: string }) => item.node);
    await eventually(async () => (await locations(1)).length === 2, 'both a100 nodes to report version 1 ready');
    expect(await locations(1)).toEqual(['gpu-a', 'gpu-b']);
    expect(await localState(c, 'vision/resnet@1')).toBeUndefined();
    for (const node of [a, b]) {
      const answer = await node.get('/v1/versions/vision/resnet/1');
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ state: 'ready', hit: true, bytes: 703 * KIB });
      for (const file of files.v1) expect(sha256(await readFile(path.join(answer.body.path, file.path)))).toBe(sha256(file.data));
    }

    await admin().put('/api/v1/projects/vision/models/resnet/tags/prod').set(bearer(ADMIN_TOKEN)).send({ version: 2 }).expect(200);
    await eventually(async () => (await locations(2)).length === 2, 'the a100 nodes to pull the version the tag moved to');
    expect(await locations(2)).toEqual(['gpu-a', 'gpu-b']);
    expect(await localState(c, 'vision/resnet@2')).toBeUndefined();
    // config.json is shared by both versions: stored once, linked twice.
    const v2 = await a.get('/v1/versions/vision/resnet/2');
    expect((await stat(path.join(v2.body.path, 'config.json'))).nlink).toBe(3);
    const shown = await admin().get(`/api/v1/projects/vision/warmups/${warmup.body.id}`).set(bearer(ADMIN_TOKEN));
    expect(shown.body).toMatchObject({ version: 2, nodes: [{ node: 'gpu-a', state: 'ready' }, { node: 'gpu-b', state: 'ready' }] });
    await Promise.all([a, b, c].map((node) => node.stop()));
  });

  it('pulls on demand, evicts the least recently used unused version under a small budget, never the leased one', async () => {
    const versions = [];
    for (let i = 1; i <= 3; i++) versions.push(await publishVersion(wharf.url, 'vision', 'bert', [{ path: 'w.bin', data: bytes(MIB, 100 + i) }]));
    // Budget 2.5 MiB: two versions fit, a third passes the high watermark (90 %); evicting one
    // brings usage under the low watermark (85 %).
    const node = await agent('small-disk', { CACHE_BUDGET: `${2.5 * MIB}`, HIGH_WATERMARK: '0.9', LOW_WATERMARK: '0.85' });
    const lease = await node.send('POST', '/v1/leases', { project: 'vision', model: 'bert', version: 1, holder: 'vision/pod-1', ttl: '10m' });
    expect(lease.status).toBe(201);
    const first = await node.get('/v1/versions/vision/bert/1?wait=20s');
    expect(first.body).toMatchObject({ state: 'ready' });
    expect((await node.get('/v1/versions/vision/bert/2?wait=20s')).body).toMatchObject({ state: 'ready', hit: false });
    expect((await node.get('/v1/versions/vision/bert/3?wait=20s')).body).toMatchObject({ state: 'ready', hit: false });
    await eventually(async () => (await node.metric('wharf_agent_evictions_total')) === 1, 'one eviction');
    expect(await localState(node, 'vision/bert@1')).toBe('ready');
    expect(await localState(node, 'vision/bert@2')).toBeUndefined();
    expect(await localState(node, 'vision/bert@3')).toBe('ready');
    expect(await node.metric('wharf_agent_cache_misses_total')).toBe(3);
    expect((await node.get('/v1/versions/vision/bert/1')).body).toMatchObject({ hit: true });
    expect(await node.metric('wharf_agent_disk_used_bytes')).toBeLessThanOrEqual(2.5 * MIB * 0.85);
    await node.stop();
  });

  it('answers 404 for a version the registry does not have and 400 for a bad reference', async () => {
    const node = await agent('asker');
    const missing = await node.get('/v1/versions/vision/resnet/99?wait=10s');
    expect(missing).toMatchObject({ status: 404, body: { code: 'version_not_found' } });
    expect((await node.get('/v1/versions/vision/Bad_Name/1')).status).toBe(400);
    expect((await node.get('/v1/versions/vision/resnet/0')).status).toBe(400);
    expect((await node.get('/v1/versions/vision/resnet/1?wait=forever')).status).toBe(400);
    expect((await node.send('POST', '/v1/leases', { project: 'vision', model: 'resnet', version: 1 })).status).toBe(400);
    expect((await node.send('DELETE', '/v1/leases/nope')).status).toBe(404);
    await node.stop();
  });

  it('resumes a pull after kill -9 and never marks a partial version ready', async () => {
    const data = bytes(4 * MIB, 777);
    const version = await publishVersion(wharf.url, 'vision', 'big', [{ path: 'big.bin', data }]);
    const env = { PULL_RATE_LIMIT: `${MIB}`, CHUNK_SIZE: '256Ki', FILE_CONCURRENCY: '2' };
    const first = await agent('crashy', env);
    await first.send('POST', '/v1/leases', { project: 'vision', model: 'big', version, holder: 'vision/pod', ttl: '10m' });
    await eventually(async () => {
      const items = (await first.get('/v1/versions')).body.items as { state: string; bytesDone: number }[];
      return items.some((item) => item.state === 'pulling' && item.bytesDone >= 1.5 * MIB);
    }, 'the pull to be under way');
    await first.kill();
    const marker = path.join(first.cacheDir, 'versions/vision/big', `${version}.ready.json`);
    await expect(stat(marker)).rejects.toThrow();

    const second = await agent('crashy', { ...env, CACHE_DIR: first.cacheDir, PULL_RATE_LIMIT: `${2 * MIB}` });
    let sawReadyEarly = false;
    const ready = (await eventually(async () => {
      const answer = await second.get(`/v1/versions/vision/big/${version}`);
      if (answer.status === 200) return answer;
      const node = (await admin().get('/api/v1/nodes/crashy').set(bearer(ADMIN_TOKEN))).body;
      if (node.entries?.some((entry: { model: string; state: string }) => entry.model === 'big' && entry.state === 'ready')) sawReadyEarly = true;
      return undefined;
    }, 'the resumed pull to finish'))!;
    expect(sawReadyEarly).toBe(false);
    expect(sha256(await readFile(path.join(ready.body.path, 'big.bin')))).toBe(sha256(data));
    const pulledAfterRestart = await second.metric('wharf_agent_bytes_pulled_total');
    expect(pulledAfterRestart).toBeGreaterThan(0);
    expect(pulledAfterRestart).toBeLessThanOrEqual(4 * MIB - 1.5 * MIB + 256 * KIB * 2);
    await second.stop();
  });

  it('finds a cached file corrupted on disk and pulls it again', async () => {
    const node = await agent('scrubbed', { SCRUB_INTERVAL: '300ms' });
    const answer = await node.get('/v1/versions/vision/resnet/1?wait=20s');
    expect(answer.status).toBe(200);
    const file = path.join(answer.body.path, 'weights/model.bin');
    const damaged = Buffer.from(await readFile(file));
    damaged[1000] ^= 0xff;
    await writeFile(file, damaged);
    await eventually(async () => (await node.metric('wharf_agent_corrupt_files_total')) >= 1, 'the scrubber to find the damage');
    const again = await node.get('/v1/versions/vision/resnet/1?wait=20s');
    expect(again.status).toBe(200);
    expect(sha256(await readFile(path.join(again.body.path, 'weights/model.bin')))).toBe(sha256(files.v1[1].data));
    await node.stop();
  });
});
