/**
 * `npm run bench:resolve`: load on `GET …/resolve` of a registry started here (embedded
 * database, its own process) and on a bare node:http hello-world (its own process), with the
 * same autocannon settings, one after the other; then resolve again at half its peak rate to
 * read the p99 under a steady, unsaturated load. Targets: resolve ≥ 0.5× hello-world, p99 ≤ 5 ms
 * at half peak. Loopback only, bounded in time.
 */
import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const TOKEN = 'wharf_bench_admin_token_0123456789abcdef';
const DURATION_SECONDS = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const HEADERS = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

const HELLO = `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json' }); s.end('{"hello":"world"}'); })
  .listen(Number(process.env.PORT), '127.0.0.1');`;

function start(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${url} did not come up`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function call(method: string, url: string, body?: unknown): Promise<unknown> {
  const response = await fetch(url, { method, headers: HEADERS, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}

function load(url: string, options: Partial<autocannon.Options> = {}): Promise<autocannon.Result> {
  return autocannon({ url, connections: CONNECTIONS, duration: DURATION_SECONDS, headers: HEADERS, ...options });
}

function summary(name: string, result: autocannon.Result): string {
  const errors = result.errors + result.non2xx;
  return `${name.padEnd(28)} ${result.requests.average.toFixed(0).padStart(7)} req/s   p50 ${result.latency.p50} ms   p99 ${result.latency.p99} ms   errors/non-2xx ${errors}`;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-'));
  const registryPort = 18000 + Math.floor(Math.random() * 1000);
  const helloPort = registryPort + 1000;
  const registry = start(['-r', '@swc-node/register', 'src/main.ts'], {
    PORT: String(registryPort),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    WHARF_ADMIN_TOKEN: TOKEN,
    // Request logs would measure the log pipe, not the registry.
    LOG_LEVEL: 'warn',
    // Rate limiting stays on (its cost is part of every resolve) with a budget the load never reaches.
    RATE_LIMIT_READ: '1000000000/60s',
  });
  const hello = start(['-e', HELLO], { PORT: String(helloPort) });
  try {
    const base = `http://127.0.0.1:${registryPort}`;
    await waitFor(`${base}/healthz`);
    await waitFor(`http://127.0.0.1:${helloPort}/`);
    await call('POST', `${base}/api/v1/projects`, { name: 'bench' });
    await call('POST', `${base}/api/v1/projects/bench/models`, { name: 'resnet' });
    for (let index = 0; index < 3; index++) {
      const version = (await call('POST', `${base}/api/v1/projects/bench/models/resnet/versions`, {})) as { number: number };
      const versionUrl = `${base}/api/v1/projects/bench/models/resnet/versions/${version.number}`;
      const form = new FormData();
      form.append('file', new Blob([`weights ${version.number}`]), 'weights.bin');
      const uploaded = await fetch(`${versionUrl}/files`, { method: 'POST', headers: { authorization: HEADERS.authorization }, body: form });
      if (uploaded.status !== 201) throw new Error(`upload: ${uploaded.status} ${await uploaded.text()}`);
      await call('POST', `${versionUrl}/commit`);
    }
    await call('PUT', `${base}/api/v1/projects/bench/models/resnet/tags/prod`, { version: 2, reason: 'bench' });
    const resolveUrl = `${base}/api/v1/projects/bench/models/resnet/resolve?ref=bench/resnet:prod`;
    console.log('resolve answers:', JSON.stringify(await call('GET', resolveUrl)));

    console.log(`\nautocannon: ${CONNECTIONS} connections, ${DURATION_SECONDS} s each, loopback\n`);
    await load(resolveUrl, { duration: 2 }); // warm-up (JIT, caches)
    await load(`http://127.0.0.1:${helloPort}/`, { duration: 2 });
    const resolved = await load(resolveUrl);
    console.log(summary('GET …/resolve (peak)', resolved));
    const helloResult = await load(`http://127.0.0.1:${helloPort}/`);
    console.log(summary('node:http hello-world', helloResult));
    const ratio = resolved.requests.average / helloResult.requests.average;
    console.log(`ratio resolve / hello-world: ${ratio.toFixed(2)} (target ≥ 0.50)`);

    const halfRate = Math.max(1, Math.floor(resolved.requests.average / 2));
    const steady = await load(resolveUrl, { overallRate: halfRate, connections: Math.min(CONNECTIONS, 16) });
    console.log(summary(`GET …/resolve @ ${halfRate} req/s`, steady));
    console.log(`p99 at half of peak: ${steady.latency.p99} ms (target ≤ 5 ms)`);
    const ok = ratio >= 0.5 && steady.latency.p99 <= 5 && resolved.non2xx === 0 && steady.non2xx === 0;
    console.log(ok ? '\nresult: targets met' : '\nresult: targets NOT met on this run (shared machine: see docs/release-management.md)');
  } finally {
    registry.kill('SIGTERM');
    hello.kill('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
