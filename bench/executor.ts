/**
 * `npm run bench:executor [-- --explore] [--requests=N] [--duration=S]`: the executor against the
 * reverse proxy a user would put there instead (Debian's nginx, run as this user with a config of
 * its own on free ports), both in front of the same trivial upstream, in one run:
 *   1. peak requests/s through each (autocannon, keep-alive, 64 connections) → ratio (target ≥ 0.5×)
 *   2. p99 latency each adds over calling the upstream directly, at half of nginx's peak rate
 *      (target ≤ 2 ms added for the executor)
 *   3. async end to end: N requests (1% above the inline threshold, through S3) submitted and
 *      all finished, with a trivial model → requests/s (target ≥ 2,000) and lost (target 0).
 * Ends with one JSON line of measures, baselines, ratios and targets; exits 1 when a target is
 * missed unless --explore. Async needs RabbitMQ, Redis and S3: TEST_AMQP_URL / TEST_REDIS_URL /
 * TEST_S3_* when set (test/services/up.sh), else a RabbitMQ node of its own and s3rver.
 */
import autocannon from 'autocannon';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { JobStore } from '../executor/async/jobs';
import { startExecutorProcess, ExecutorProcess } from '../test/executor/executor-process';
import { startOwnRabbit, TestRabbit } from '../test/executor/rabbitmq';
import { freePort } from '../test/support/ports';
import { startTestRedis } from '../test/support/redis';
import { externalS3, startS3rver } from '../test/support/s3';

const args = process.argv.slice(2);
const EXPLORE = args.includes('--explore');
const option = (name: string, fallback: number) => Number(args.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const ASYNC_REQUESTS = option('requests', 10_000);
const DURATION = option('duration', 5);
const CONNECTIONS = 64;
/** Clients submitting async requests at once: each waits for its 202 (a publisher confirm) before the next. */
const ASYNC_CLIENTS = option('async-clients', 256);

/** The trivial model: a node process answering a small JSON document to everything. */
async function startUpstream(): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const source = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.writeHead(200, { 'content-type': 'application/json' }); s.end('{"prediction":[0.1,0.9]}'); }); }).listen(${port}, '127.0.0.1', () => console.log('up'));`;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout!.once('data', resolve));
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

/** nginx as a keep-alive reverse proxy, one worker (the executor is one process too). */
async function startNginx(upstreamPort: number, dir: string): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const config = `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream model { server 127.0.0.1:${upstreamPort}; keepalive 256; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://model; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; proxy_request_buffering off; }
  }
}
`;
  await writeFile(path.join(dir, 'nginx.conf'), config);
  const child = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'inherit' });
  for (let i = 0; i < 100; i += 1) {
    if (await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGQUIT') };
}

async function load(url: string, rate?: number): Promise<{ rps: number; p99: number; p50: number; errors: number }> {
  const result = await autocannon({ url: `${url}/v1/models/m:predict`, method: 'POST', body: '{"inputs":[1,2,3]}', headers: { 'content-type': 'application/json' }, connections: CONNECTIONS, duration: DURATION, ...(rate ? { overallRate: rate } : {}) });
  return { rps: result.requests.average, p99: result.latency.p99, p50: result.latency.p50, errors: result.errors + result.non2xx };
}

async function asyncThroughput(upstreamUrl: string): Promise<{ rps: number; lost: number; seconds: number; submittedSeconds: number }> {
  let rabbit: TestRabbit | undefined;
  const amqpUrl = process.env.TEST_AMQP_URL ?? (rabbit = await startOwnRabbit()).url;
  const redis = await startTestRedis();
  const ownS3 = externalS3() ? undefined : await startS3rver();
  const s3 = externalS3() ?? ownS3!;
  const deployment = `bench-${randomUUID().slice(0, 8)}`;
  const executors: ExecutorProcess[] = [];
  try {
    for (let i = 0; i < 2; i += 1) {
      executors.push(
        await startExecutorProcess(
          { UPSTREAM_URL: upstreamUrl, ALLOW_ANONYMOUS: 'true', LOG_LEVEL: 'warn', DEPLOYMENT: deployment, AMQP_URL: amqpUrl, REDIS_URL: redis.url, S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY: s3.accessKey, S3_SECRET_KEY: s3.secretKey, S3_BUCKET: 'wharf-executor-bench', ASYNC_CONCURRENCY: '128', SHUTDOWN_DELAY: '0s' },
          { compiled: true, keepOutput: false },
        ),
      );
    }
    const ids: string[] = [];
    const large = Buffer.alloc(100 * 1024, 'x');
    // node:http with keep-alive: a lighter client than fetch, so the generator is not the bottleneck.
    const agent = new Agent({ keepAlive: true, maxSockets: ASYNC_CLIENTS });
    const post = (url: string, body: Buffer | string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const outgoing = request(url, { method: 'POST', agent, headers: { 'content-length': Buffer.byteLength(body) } }, (response) => {
          let text = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        });
        outgoing.on('error', reject);
        outgoing.end(body);
      });
    let next = 0;
    const startedAt = performance.now();
    await Promise.all(
      Array.from({ length: ASYNC_CLIENTS }, async (_, lane) => {
        while (next < ASYNC_REQUESTS) {
          const i = next++;
          const response = await post(`${executors[lane % executors.length].url}/v1/async/v1/models/m:predict`, i % 100 === 0 ? large : `{"inputs":[${i}]}`);
          if (response.status !== 202) throw new Error(`submit ${i}: HTTP ${response.status} ${response.text}`);
          ids.push((JSON.parse(response.text) as { id: string }).id);
        }
      }),
    );
    const submittedSeconds = (performance.now() - startedAt) / 1000;
    agent.destroy();
    const store = new JobStore(redis.url, deployment, 60_000);
    const deadline = Date.now() + 600_000;
    while ((await store.pending()).count > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = (performance.now() - startedAt) / 1000;
    let lost = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const jobs = await Promise.all(ids.slice(i, i + 500).map((id) => store.get(id)));
      lost += jobs.filter((job) => job?.state !== 'succeeded').length;
    }
    await store.close();
    return { rps: ASYNC_REQUESTS / seconds, lost: lost + (ASYNC_REQUESTS - ids.length), seconds, submittedSeconds };
  } finally {
    await Promise.all(executors.map((executor) => executor.stop()));
    await redis.close();
    await ownS3?.close();
    await rabbit?.close();
  }
}

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, ['scripts/build.js', '--if-stale'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed');
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-executor-'));
  const upstream = await startUpstream();
  const nginx = await startNginx(Number(new URL(upstream.url).port), dir);
  const executor = await startExecutorProcess({ UPSTREAM_URL: upstream.url, ALLOW_ANONYMOUS: 'true', CONCURRENCY: '0', UPSTREAM_MAX_SOCKETS: '256', SHUTDOWN_DELAY: '0s' }, { compiled: true, keepOutput: false });
  try {
    console.log(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    await load(nginx.url); // warm-up both (JIT, keep-alive pools)
    await load(executor.url);
    const nginxPeak = await load(nginx.url);
    const executorPeak = await load(executor.url);
    const rpsRatio = executorPeak.rps / nginxPeak.rps;
    console.log(`\n1. peak requests/s (${CONNECTIONS} connections, ${DURATION} s)`);
    console.log(`   nginx     ${nginxPeak.rps.toFixed(0).padStart(7)} req/s   p99 ${nginxPeak.p99} ms   errors ${nginxPeak.errors}`);
    console.log(`   executor  ${executorPeak.rps.toFixed(0).padStart(7)} req/s   p99 ${executorPeak.p99} ms   errors ${executorPeak.errors}   = ${rpsRatio.toFixed(2)}× nginx`);
    const half = Math.max(1, Math.round(nginxPeak.rps / 2));
    const direct = await load(upstream.url, half);
    const viaNginx = await load(nginx.url, half);
    const viaExecutor = await load(executor.url, half);
    const nginxAdded = viaNginx.p99 - direct.p99;
    const executorAdded = viaExecutor.p99 - direct.p99;
    console.log(`\n2. p99 at half of nginx's peak (${half} req/s)`);
    console.log(`   direct    p99 ${direct.p99} ms (p50 ${direct.p50})`);
    console.log(`   nginx     p99 ${viaNginx.p99} ms (p50 ${viaNginx.p50})   added ${nginxAdded.toFixed(2)} ms`);
    console.log(`   executor  p99 ${viaExecutor.p99} ms (p50 ${viaExecutor.p50})   added ${executorAdded.toFixed(2)} ms`);
    const asyncRun = await asyncThroughput(upstream.url);
    console.log(`\n3. async end to end: ${ASYNC_REQUESTS} requests (1% through S3), 2 executors, ${ASYNC_CLIENTS} clients`);
    console.log(`   ${asyncRun.rps.toFixed(0)} req/s (${asyncRun.seconds.toFixed(1)} s; all accepted after ${asyncRun.submittedSeconds.toFixed(1)} s), lost ${asyncRun.lost}`);
    console.log(`\nload average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const targets = { rpsRatio: 0.5, executorAddedP99Ms: 2, asyncRps: 2000, asyncLost: 0 };
    const missed = [rpsRatio < targets.rpsRatio, executorAdded > targets.executorAddedP99Ms, asyncRun.rps < targets.asyncRps, asyncRun.lost > targets.asyncLost].some(Boolean);
    console.log(
      JSON.stringify({
        bench: 'executor',
        measures: { executorRps: executorPeak.rps, executorAddedP99Ms: executorAdded, asyncRps: asyncRun.rps, asyncLost: asyncRun.lost, asyncRequests: ASYNC_REQUESTS },
        baselines: { nginxRps: nginxPeak.rps, nginxAddedP99Ms: nginxAdded, directP99Ms: direct.p99 },
        ratios: { rpsRatio },
        targets,
        loadavg: loadavg(),
      }),
    );
    if (missed && !EXPLORE) process.exitCode = 1;
  } finally {
    await executor.stop();
    nginx.stop();
    upstream.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
