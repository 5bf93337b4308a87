/**
 * `npm run bench:cache`: node-cache throughput, in one run, side by side, against a registry
 * started here (its own process, embedded database, blobs on local disk):
 *   1. the agent pulling a 1 GiB version vs `curl` of the same bytes from the same registry
 *      (target: agent ≥ 0.9× curl), three of each interleaved, medians compared;
 *   2. time to ready on a warm node (version on disk) vs the cold pull (target: ≤ 1 %);
 *   3. four agents warming the version at once (aggregate throughput).
 * Loopback only; everything it writes lives in one temporary directory, removed at the end.
 * BENCH_SIZE (bytes, default 1 GiB) makes a quicker run; BENCH_CHUNK_SIZE / BENCH_FILE_CONCURRENCY
 * tune the agents (16Mi / 4); BENCH_PHASES=1,2 skips the four agents; BENCH_DATABASE_URL runs the
 * registry on an (empty) Postgres database instead of embedded PGlite; BENCH_VERBOSE=1 prints
 * the agents' pull log lines; BENCH_RUNS (default 3) sets how many runs each median takes.
 * Ends with the harness's table and JSON line (bench/harness/bench.ts); a missed target exits 1
 * unless `--explore`.
 */
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { eventually } from '../test/support/eventually';
import { createModel, createProject } from '../test/support/fixtures';
import { AgentProcess, nodeAgentToken, publishVersion, startAgent } from '../test/support/node-cache';
import { startRegistryProcess } from '../test/support/registry-process';
import { ADMIN_TOKEN } from '../test/support/test-registry';
import { Bench, envNumber, runBench } from './harness/bench';

const SIZE = envNumber('BENCH_SIZE', 1024 ** 3);
/** Agent tuning for the run (defaults: the agent's own). */
const TUNING = {
  CHUNK_SIZE: process.env.BENCH_CHUNK_SIZE ?? '16Mi',
  FILE_CONCURRENCY: process.env.BENCH_FILE_CONCURRENCY ?? '4',
};
const PHASES = (process.env.BENCH_PHASES ?? '1,2,3').split(',');
const MIB = 1024 * 1024;
const mibps = (bytes: number, ms: number) => bytes / MIB / (ms / 1000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, read loosely
async function api(url: string, method: string, route: string, body?: unknown): Promise<any> {
  const response = await fetch(url + route, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}

async function timeToReady(agent: AgentProcess, route: string): Promise<number> {
  const started = process.hrtime.bigint();
  const answer = await agent.get(route);
  if (answer.status !== 200) throw new Error(`${agent.name}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

interface Context {
  work: string;
  registryUrl: string;
  token: string;
  version: number;
  route: string;
  fileUrl: string;
  agents: AgentProcess[];
}

// Each run starts with nothing dirty in the page cache: the writeback of the previous gigabyte
// would otherwise land on whichever run comes next.
const settle = () => spawnSync('sync');

function curl(ctx: Context, target: string): number {
  const result = spawnSync('curl', ['-sf', '-o', target, '-H', `Authorization: Bearer ${ADMIN_TOKEN}`, '-w', '%{time_total}', ctx.fileUrl], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`curl failed: ${result.stderr}`);
  return Number(result.stdout) * 1000;
}

/** 1. curl vs a cold agent, the same bytes from the same registry, each written to disk. Returns the last cold agent. */
async function coldPulls(bench: Bench, ctx: Context): Promise<{ agent: AgentProcess; coldMs: number }> {
  curl(ctx, path.join(ctx.work, 'warm-page-cache'));
  await rm(path.join(ctx.work, 'warm-page-cache'));
  let agent!: AgentProcess;
  // Single runs differ by up to 1.7× on this shared machine: interleaved runs, medians compared.
  const medians = await bench.interleaved({
    'curl -o (ms)': {
      unit: 'ms',
      baseline: true,
      sample: async () => {
        // The previous cold agent is gone before curl runs; the last one stays for the warm reads.
        await agent?.kill();
        settle();
        const ms = curl(ctx, path.join(ctx.work, 'curl.bin'));
        if ((await stat(path.join(ctx.work, 'curl.bin'))).size !== SIZE) throw new Error('curl got a short file');
        await rm(path.join(ctx.work, 'curl.bin'));
        return ms;
      },
    },
    'agent cold pull, sha256-verified and fsynced (ms)': {
      unit: 'ms',
      sample: async (run) => {
        agent = await startAgent({ NODE_NAME: 'cold', REGISTRY_URL: ctx.registryUrl, WHARF_TOKEN: ctx.token, CACHE_DIR: path.join(ctx.work, `cold-${run}`), ...TUNING, CACHE_BUDGET: '100Gi' });
        ctx.agents.push(agent);
        settle();
        return timeToReady(agent, ctx.route);
      },
    },
  });
  const coldMs = medians['agent cold pull, sha256-verified and fsynced (ms)'];
  // curl with the checks the agent makes before a version is ready: sha256, then on disk.
  settle();
  const verifiedStarted = process.hrtime.bigint();
  curl(ctx, path.join(ctx.work, 'curl.bin'));
  spawnSync('sh', ['-c', 'sha256sum "$1" >/dev/null && sync "$1"', 'sh', path.join(ctx.work, 'curl.bin')]);
  const verifiedCurlMs = bench.record('curl -o + sha256sum + sync (ms)', Number(process.hrtime.bigint() - verifiedStarted) / 1e6, { unit: 'ms', baseline: true });
  await rm(path.join(ctx.work, 'curl.bin'));
  // Throughput ratio: agent ≥ 0.9× curl means curl's time over the agent's.
  bench.ratio('agent / curl throughput', medians['curl -o (ms)'], coldMs, { atLeast: 0.9 });
  bench.ratio('agent / verified curl throughput', verifiedCurlMs, coldMs);
  bench.note(`one version of ${(SIZE / MIB).toFixed(0)} MiB: agent ${mibps(SIZE, coldMs).toFixed(0)} MiB/s, curl ${mibps(SIZE, medians['curl -o (ms)']).toFixed(0)} MiB/s`);
  return { agent, coldMs };
}

/** 2. warm node: the same agent asked again, and a restarted agent on the same cache. */
async function warmReads(bench: Bench, ctx: Context, cold: AgentProcess, coldMs: number): Promise<void> {
  const warmMs = await bench.median('warm, running agent (ms)', () => timeToReady(cold, ctx.route), { unit: 'ms' });
  bench.ratio('warm / cold (%)', warmMs * 100, coldMs, { atMost: 1 });
  await cold.stop();
  const restarted = await startAgent({ ...cold.env, NODE_NAME: 'cold', AGENT_PORT: '0' });
  ctx.agents.push(restarted);
  const restartedMs = bench.record('warm, first read after a restart (ms)', await timeToReady(restarted, ctx.route), { unit: 'ms' });
  bench.ratio('warm after restart / cold (%)', restartedMs * 100, coldMs);
  await restarted.stop();
  if (process.env.BENCH_VERBOSE) console.log(cold.output.filter((line) => /"msg":"(pulling|ready)"|PROBE/.test(line)).join('\n'));
}

/** 3. four agents warming at once through a warm-up (aggregate throughput, no target). */
async function fourAgents(bench: Bench, ctx: Context): Promise<void> {
  const four = await Promise.all(
    [1, 2, 3, 4].map((i) =>
      startAgent({ NODE_NAME: `warm-${i}`, NODE_LABELS: 'bench=yes', REGISTRY_URL: ctx.registryUrl, WHARF_TOKEN: ctx.token, CACHE_DIR: path.join(ctx.work, `four-${i}`), ...TUNING, CACHE_BUDGET: '100Gi', HEARTBEAT_INTERVAL: '1s' }),
    ),
  );
  ctx.agents.push(...four);
  const started = Date.now();
  await api(ctx.registryUrl, 'POST', '/api/v1/projects/bench/warmups', { model: 'llm', ref: `@${ctx.version}`, selector: { matchLabels: { bench: 'yes' } } });
  await eventually(
    async () => {
      const items = (await api(ctx.registryUrl, 'GET', `/api/v1/projects/bench/models/llm/versions/${ctx.version}/locations`)).items as { node: string }[];
      if (process.env.BENCH_VERBOSE) console.log(`${new Date().toISOString()} locations: ${items.map((item) => item.node).join(' ')}`);
      // The phase-1 node still counts as ready until NODE_READY_TIMEOUT_SECONDS: look for the four.
      return four.every((agent) => items.some((item) => item.node === agent.name));
    },
    'four agents to hold the version',
    1_800_000,
    250,
  );
  const fourMs = bench.record('four agents, warm-up to all ready (ms)', Date.now() - started, { unit: 'ms' });
  bench.record('four agents, aggregate MiB/s', mibps(4 * SIZE, fourMs), { unit: 'MiB/s' });
  const pulls = await Promise.all(four.map(async (agent) => `${agent.name}: pull ${(await agent.metric('wharf_agent_pull_duration_seconds_sum')).toFixed(2)} s, ${await agent.metric('wharf_agent_heartbeat_failures_total')} failed heartbeats`));
  bench.note(pulls.join('; '));
  if (process.env.BENCH_VERBOSE) for (const agent of four) console.log(agent.output.filter((line) => /"msg":"(pulling|ready|heartbeat failed; backing off)"/.test(line)).join('\n'));
}

void runBench('cache', async (bench) => {
  const work = await mkdtemp(path.join(tmpdir(), 'wharf-bench-cache-'));
  // BENCH_DATABASE_URL: an empty Postgres database for the registry; unset: embedded PGlite.
  const registry = await startRegistryProcess({ DATA_DIR: path.join(work, 'registry'), ...(process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}) }, 120_000);
  const agents: AgentProcess[] = [];
  try {
    await createProject(registry.url, 'bench');
    await createModel(registry.url, 'bench', 'llm');
    const data = randomFillSync(Buffer.allocUnsafe(SIZE));
    const started = Date.now();
    const version = await publishVersion(registry.url, 'bench', 'llm', [{ path: 'model.safetensors', data }]);
    console.log(`uploaded ${(SIZE / MIB).toFixed(0)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const ctx: Context = {
      work,
      registryUrl: registry.url,
      token: await nodeAgentToken(registry.url),
      version,
      route: `/v1/versions/bench/llm/${version}?wait=600s`,
      fileUrl: `${registry.url}/api/v1/projects/bench/models/llm/versions/${version}/files/model.safetensors`,
      agents,
    };
    const { agent, coldMs } = await coldPulls(bench, ctx);
    await warmReads(bench, ctx, agent, coldMs);
    if (PHASES.includes('3')) await fourAgents(bench, ctx);
  } finally {
    await Promise.all(agents.map((agent) => agent.kill()));
    await registry.kill();
    await rm(work, { recursive: true, force: true });
  }
});
