/**
 * `npm run bench:scheduler`: kube-scheduler's prioritize call as it arrives with nodeCacheCapable
 * (ExtenderArgs naming every node), against a registry started here (embedded database, its own
 * process) holding BENCH_NODES nodes (default 5,000) that report BENCH_VERSIONS cached versions
 * (default 200) through real heartbeats; side by side with the floor any Node.js extender pays:
 * a bare node:http server that parses the same body and answers an all-zero HostPriorityList.
 * Peak calls/s interleaved run by run, then the p99 at half of Wharf's peak.
 * Target: p99 ≤ 10 ms. BENCH_DURATION (seconds per run, default 8), BENCH_CONNECTIONS (default 8).
 */
import autocannon from 'autocannon';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ChildHandle, startChild } from '../test/support/child-process';
import { eventually } from '../test/support/eventually';
import { createModel, createProject } from '../test/support/fixtures';
import { nodeAgentToken, publishVersion } from '../test/support/node-cache';
import { RegistryProcess, startRegistryProcess } from '../test/support/registry-process';
import { Bench, envNumber, runBench } from './harness/bench';

const NODES = envNumber('BENCH_NODES', 5000);
const VERSIONS = envNumber('BENCH_VERSIONS', 200);
const DURATION_SECONDS = envNumber('BENCH_DURATION', 8);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 8);
const TOKEN = 'bench_scheduler_token_0123456789';
/** Versions each node holds (ready, or mid-pull for every third). */
const PER_NODE = 8;

const FLOOR = `require('node:http').createServer((q, s) => { let b = ''; q.setEncoding('utf8'); q.on('data', (c) => (b += c)); q.on('end', () => {
  const names = JSON.parse(b).NodeNames; s.writeHead(200, { 'content-type': 'application/json' }); s.end(JSON.stringify(names.map((Host) => ({ Host, Score: 0 })))); }); })
  .listen(0, '127.0.0.1', function () { console.log(JSON.stringify({ msg: 'floor listening', port: this.address().port })); });`;

const nodeName = (i: number) => `bench-node-${String(i).padStart(5, '0')}`;

async function seed(url: string): Promise<void> {
  await createProject(url, 'bench');
  await createModel(url, 'bench', 'llm');
  for (let v = 1; v <= VERSIONS; v++) await publishVersion(url, 'bench', 'llm', [{ path: 'weights.bin', data: Buffer.from(`weights ${v}`) }]);
  const agent = await nodeAgentToken(url);
  const started = Date.now();
  const beat = async (i: number) => {
    const entries = Array.from({ length: PER_NODE }, (_, k) => {
      const version = ((i * 7 + k * 13) % VERSIONS) + 1;
      return { project: 'bench', model: 'llm', version, state: k % 3 === 2 ? 'pulling' : 'ready', bytesDone: 5, bytesTotal: 10 };
    });
    const response = await fetch(`${url}/api/v1/nodes/${nodeName(i)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' },
      body: JSON.stringify({ labels: {}, capacityBytes: 1e12, budgetBytes: 5e11, usedBytes: i * 1e7, entries, demands: [] }),
    });
    if (!response.ok) throw new Error(`heartbeat ${i}: ${response.status} ${await response.text()}`);
  };
  for (let i = 0; i < NODES; i += 16) await Promise.all(Array.from({ length: Math.min(16, NODES - i) }, (_, k) => beat(i + k)));
  console.log(`seeded ${NODES} nodes × ${PER_NODE} entries over ${VERSIONS} versions in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** One body per version, so calls rotate through the catalogue like a rollout of many models. */
function requests(): autocannon.Request[] {
  const NodeNames = Array.from({ length: NODES }, (_, i) => nodeName(i));
  return Array.from({ length: Math.min(VERSIONS, 20) }, (_, k) => ({
    method: 'POST' as const,
    body: JSON.stringify({ Pod: { metadata: { name: `p${k}`, namespace: 'bench', annotations: { 'wharf.dev/model-version': `bench/llm@${((k * 10) % VERSIONS) + 1}` } } }, NodeNames }),
  }));
}

async function sample(name: string, url: string, read: (result: autocannon.Result) => number, options: Partial<autocannon.Options> = {}): Promise<number> {
  const result = await autocannon({
    url, connections: CONNECTIONS, duration: DURATION_SECONDS, requests: requests(),
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, ...options,
  });
  const errors = result.errors + result.non2xx;
  console.log(`${name.padEnd(36)} ${result.requests.average.toFixed(0).padStart(6)} calls/s   p50 ${result.latency.p50} ms   p99 ${result.latency.p99} ms   errors/non-2xx ${errors}`);
  if (errors > 0) throw new Error(`${name}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
  return read(result);
}

async function measure(bench: Bench, wharfUrl: string, floorUrl: string): Promise<void> {
  const check = await fetch(wharfUrl, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: requests()[0].body as string });
  const scores = (await check.json()) as { Host: string; Score: number }[];
  if (scores.length !== NODES) throw new Error(`prioritize answered ${scores.length} hosts for ${NODES} nodes`);
  console.log(`prioritize answers ${scores.length} hosts; ${scores.filter((s) => s.Score > 0).length} with a score above 0`);
  console.log(`\nautocannon: ${CONNECTIONS} connections, ${DURATION_SECONDS} s each, ${NODES} node names per call, loopback\n`);
  await sample('warm-up', wharfUrl, () => 0, { duration: 2 });
  const peak = await bench.interleaved({
    'prioritize, peak calls/s': { unit: 'calls/s', sample: () => sample('Wharf prioritize (peak)', wharfUrl, (r) => r.requests.average) },
    'parse-and-zero floor calls/s': { unit: 'calls/s', baseline: true, sample: () => sample('node:http parse-and-zero floor', floorUrl, (r) => r.requests.average) },
  });
  bench.ratio('prioritize / floor', peak['prioritize, peak calls/s'], peak['parse-and-zero floor calls/s']);
  const halfRate = Math.max(1, Math.floor(peak['prioritize, peak calls/s'] / 2));
  bench.note(`half of peak: ${halfRate} calls/s; ${NODES} nodes, ${VERSIONS} versions, ${PER_NODE} entries per node`);
  const p99 = await bench.median('prioritize p99 at half of peak (ms)', () =>
    sample(`Wharf prioritize @ ${halfRate} calls/s`, wharfUrl, (r) => r.latency.p99, { overallRate: halfRate }), { unit: 'ms' });
  bench.target('prioritize p99 (ms)', p99, { atMost: 10 });
}

void runBench('scheduler', async (bench) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-'));
  let registry: RegistryProcess | undefined;
  let floor: (ChildHandle & { ready: number }) | undefined;
  try {
    registry = await startRegistryProcess(
      { DATA_DIR: dataDir, LOG_LEVEL: 'warn', SCHEDULER_EXTENDER_TOKEN: TOKEN, SCHEDULER_MIN_MODEL_BYTES: '0', SCHEDULER_FULL_SCORE_BYTES: '10', RATE_LIMIT_ENABLED: 'false' },
      60_000,
    );
    floor = await startChild({ name: 'floor', args: ['-e', FLOOR], env: {}, ready: (line) => (line.includes('floor listening') ? (JSON.parse(line) as { port: number }).port : undefined) });
    await seed(registry.url);
    // Without a listener (embedded mode) the index polls every second: wait until it holds the last node.
    const last = JSON.stringify({ Pod: { metadata: { annotations: { 'wharf.dev/model-version': 'bench/llm@1' } } }, NodeNames: [nodeName(NODES - 1)] });
    await eventually(async () => {
      const response = await fetch(`${registry!.url}/api/v1/scheduler/filter`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: last });
      return ((await response.json()) as { NodeNames: string[] }).NodeNames.length === 1;
    }, 'the scheduler index to hold every node', { timeoutMs: 30_000 });
    const url = `${registry.url}/api/v1/scheduler/prioritize`;
    await measure(bench, url, `http://127.0.0.1:${floor.ready}/`);
  } finally {
    await registry?.stop();
    await floor?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
