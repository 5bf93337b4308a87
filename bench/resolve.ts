/**
 * `npm run bench:resolve`: load on `GET …/resolve` of a registry started here (embedded
 * database, its own process) and on a bare node:http hello-world (its own process), with the
 * same autocannon settings, interleaved run by run (medians of BENCH_RUNS, default 3); then
 * resolve again at half its peak rate to read the p99 under a steady, unsaturated load.
 * Targets: resolve ≥ 0.5× hello-world, p99 ≤ 5 ms at half peak. Loopback only, bounded in time.
 * BENCH_DURATION (seconds per run, default 8), BENCH_CONNECTIONS (default 32); `--explore`
 * reports a missed target without failing (bench/harness/bench.ts).
 */
import autocannon from 'autocannon';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ChildHandle, startChild } from '../test/support/child-process';
import { createModel, createProject } from '../test/support/fixtures';
import { publishVersion } from '../test/support/node-cache';
import { RegistryProcess, startRegistryProcess } from '../test/support/registry-process';
import { ADMIN_TOKEN } from '../test/support/test-registry';
import { Bench, envNumber, runBench } from './harness/bench';

const DURATION_SECONDS = envNumber('BENCH_DURATION', 8);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 32);
const HEADERS = { authorization: `Bearer ${ADMIN_TOKEN}` };

const HELLO = `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json' }); s.end('{"hello":"world"}'); })
  .listen(0, '127.0.0.1', function () { console.log(JSON.stringify({ msg: 'hello listening', port: this.address().port })); });`;

function load(url: string, options: Partial<autocannon.Options> = {}): Promise<autocannon.Result> {
  return autocannon({ url, connections: CONNECTIONS, duration: DURATION_SECONDS, headers: HEADERS, ...options });
}

function summary(name: string, result: autocannon.Result): string {
  const errors = result.errors + result.non2xx;
  return `${name.padEnd(28)} ${result.requests.average.toFixed(0).padStart(7)} req/s   p50 ${result.latency.p50} ms   p99 ${result.latency.p99} ms   errors/non-2xx ${errors}`;
}

/** One autocannon run as a sample: its mean rate (or p99), refusing a run with errors. */
async function sample(name: string, url: string, read: (result: autocannon.Result) => number, options: Partial<autocannon.Options> = {}): Promise<number> {
  const result = await load(url, options);
  console.log(summary(name, result));
  if (result.errors + result.non2xx > 0) throw new Error(`${name}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
  return read(result);
}

async function seed(url: string): Promise<string> {
  await createProject(url, 'bench');
  await createModel(url, 'bench', 'resnet');
  for (let number = 1; number <= 3; number++) await publishVersion(url, 'bench', 'resnet', [{ path: 'weights.bin', data: Buffer.from(`weights ${number}`) }]);
  const moved = await fetch(`${url}/api/v1/projects/bench/models/resnet/tags/prod`, {
    method: 'PUT',
    headers: { ...HEADERS, 'content-type': 'application/json' },
    body: JSON.stringify({ version: 2, reason: 'bench' }),
  });
  if (!moved.ok) throw new Error(`tagging: ${moved.status} ${await moved.text()}`);
  return `${url}/api/v1/projects/bench/models/resnet/resolve?ref=bench/resnet:prod`;
}

async function measure(bench: Bench, resolveUrl: string, helloUrl: string): Promise<void> {
  console.log('resolve answers:', await (await fetch(resolveUrl, { headers: HEADERS })).text());
  console.log(`\nautocannon: ${CONNECTIONS} connections, ${DURATION_SECONDS} s each, loopback\n`);
  await load(resolveUrl, { duration: 2 }); // warm-up (JIT, caches)
  await load(helloUrl, { duration: 2 });
  const peak = await bench.interleaved({
    'GET …/resolve, peak req/s': { unit: 'req/s', sample: () => sample('GET …/resolve (peak)', resolveUrl, (result) => result.requests.average) },
    'node:http hello-world req/s': { unit: 'req/s', baseline: true, sample: () => sample('node:http hello-world', helloUrl, (result) => result.requests.average) },
  });
  bench.ratio('resolve / hello-world', peak['GET …/resolve, peak req/s'], peak['node:http hello-world req/s'], { atLeast: 0.5 });

  const halfRate = Math.max(1, Math.floor(peak['GET …/resolve, peak req/s'] / 2));
  bench.note(`half of peak: ${halfRate} req/s (autocannon overallRate)`);
  const p99 = await bench.median('GET …/resolve p99 at half of peak (ms)', () =>
    sample(`GET …/resolve @ ${halfRate} req/s`, resolveUrl, (result) => result.latency.p99, { overallRate: halfRate, connections: Math.min(CONNECTIONS, 16) }),
    { unit: 'ms' },
  );
  bench.target('p99 at half of peak (ms)', p99, { atMost: 5 });
}

void runBench('resolve', async (bench) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-'));
  let registry: RegistryProcess | undefined;
  let hello: (ChildHandle & { ready: number }) | undefined;
  try {
    registry = await startRegistryProcess(
      {
        DATA_DIR: dataDir,
        // Request logs would measure the log pipe, not the registry.
        LOG_LEVEL: 'warn',
        // Rate limiting stays on (its cost is part of every resolve) with a budget the load never reaches.
        RATE_LIMIT_READ: '999999999/60s',
      },
      60_000,
    );
    hello = await startChild({ name: 'hello-world', args: ['-e', HELLO], env: {}, ready: (line) => (line.includes('hello listening') ? (JSON.parse(line) as { port: number }).port : undefined) });
    await measure(bench, await seed(registry.url), `http://127.0.0.1:${hello.ready}/`);
  } finally {
    await registry?.stop();
    await hello?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
