/**
 * `npm run bench:operator`: N ModelDeployments (BENCH_COUNT, default 500) created at once against
 * a test cluster of its own (test/cluster/), a registry process and the operator process. Measures
 * the time until all are Ready, the operator's CPU seconds and peak RSS, the reconcile p99 (its own
 * histogram) and the apiserver's request rate; beside it, the alternative a user would pick: the
 * same N Deployments applied directly (no operator, no registry), time until all are available.
 * Targets (issue 19): all Ready ≤ 120 s, operator RSS ≤ 250 MiB. Ends with one JSON line; exits 1
 * when a target is missed unless --explore is given. Runs itself inside a network namespace, as
 * `npm run test:cluster` does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { KubeClient } from '../kube-runtime/kube-client';
import { startCluster, stopCluster, type ClusterInfo } from '../test/cluster/runner';
import { get } from '../test/cluster/probe';
import { KWOK_NODE_ANNOTATION } from '../test/cluster/components';
import { startOperatorProcess } from '../test/support/operator-process';
import { startRegistryProcess } from '../test/support/registry-process';
import { ADMIN_TOKEN } from '../test/support/test-registry';

const ROOT = path.resolve(__dirname, '..');
const COUNT = Number(process.env.BENCH_COUNT ?? 500);
const EXPLORE = process.argv.includes('--explore');
const TARGETS = { allReadySeconds: 120, operatorRssMiB: 250 };
const NODES = Math.max(2, Math.ceil(COUNT / 50));

/** Outside the network namespace: build (or find) the binaries and run this file again inside one. */
function reexecInNamespace(): never {
  // The operator runs compiled (dist/), as in production, so the compiler's memory is not measured.
  const built = spawnSync(process.execPath, ['scripts/build.js', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
  const bin = spawnSync('bash', ['test/cluster/build.sh'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (bin.status !== 0) process.exit(bin.status ?? 1);
  const args = process.getuid?.() === 0 ? ['--net'] : ['--user', '--map-root-user', '--net'];
  const setup = 'ip link set lo up && ip addr add 10.96.0.1/24 dev lo && exec "$@"';
  const run = spawnSync('unshare', [...args, 'bash', '-c', setup, '_', process.execPath, ...process.execArgv, __filename, ...process.argv.slice(2)], {
    cwd: ROOT, stdio: 'inherit', env: { ...process.env, WHARF_CLUSTER_BIN: bin.stdout.trim(), WHARF_BENCH_IN_NETNS: '1' },
  });
  process.exit(run.status ?? 1);
}

async function api(url: string, method: string, route: string, body?: unknown): Promise<unknown> {
  const response = await fetch(url + route, { method, headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}

async function apiserverRequests(info: ClusterInfo): Promise<number> {
  const metrics = await get(`${info.server}/metrics`, { ca: info.ca.cert, ...info.admin });
  return metrics.body.split('\n').filter((line) => line.startsWith('apiserver_request_total{')).reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (done(await read())) return (Date.now() - started) / 1000;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function processStats(pid: number): { cpuSeconds: number; peakRssMiB: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
  return { cpuSeconds: ticks / 100, peakRssMiB: Number(hwm) / 1024 };
}

/** The upper bound of the histogram bucket holding the 99th percentile. */
function p99(metrics: string): number {
  const buckets = metrics.split('\n').filter((line) => line.startsWith('wharf_operator_reconcile_duration_seconds_bucket'))
    .map((line) => ({ le: /le="([^"]+)"/.exec(line)![1], count: Number(line.split(' ').pop()) }));
  const total = buckets.find((bucket) => bucket.le === '+Inf')!.count;
  return Number(buckets.find((bucket) => bucket.count >= total * 0.99)!.le);
}

const podTemplate = (labels: Record<string, string>) => ({
  metadata: { labels },
  spec: { nodeSelector: { 'wharf.bench/pool': 'operator' }, containers: [{ name: 'runtime', image: 'ghcr.io/acme/model-server:1' }] },
});

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'wharf-bench-operator-'));
  const dir = path.join(work, 'cluster');
  const info = await startCluster({ dir, binDir: process.env.WHARF_CLUSTER_BIN! });
  const kube = await KubeClient.fromKubeconfig(info.kubeconfig);
  const registry = await startRegistryProcess({ DATA_DIR: path.join(work, 'registry') }, 90_000);
  let operator: Awaited<ReturnType<typeof startOperatorProcess>> | undefined;
  try {
    console.log(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${COUNT} ModelDeployments on ${NODES} kwok nodes`);
    await api(registry.url, 'POST', '/api/v1/projects', { name: 'bench' });
    await api(registry.url, 'POST', '/api/v1/projects/bench/models', { name: 'm' });
    await api(registry.url, 'POST', '/api/v1/projects/bench/models/m/versions', {});
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('weights')]), 'model.bin');
    const upload = await fetch(`${registry.url}/api/v1/projects/bench/models/m/versions/1/files`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, body: form });
    if (!upload.ok) throw new Error(`upload: ${upload.status} ${await upload.text()}`);
    await api(registry.url, 'POST', '/api/v1/projects/bench/models/m/versions/1/commit', {});
    await api(registry.url, 'PUT', '/api/v1/projects/bench/models/m/tags/prod', { version: 1 });

    for (const name of ['bench', 'bench-plain']) await kube.request('POST', '/api/v1/namespaces', { metadata: { name } });
    await kube.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', parse(readFileSync(path.join(ROOT, 'deploy/base/operator/modeldeployment-crd.yaml'), 'utf8')));
    for (let i = 0; i < NODES; i++) {
      const capacity = { cpu: '64', memory: '256Gi', pods: '110' };
      await kube.request('POST', '/api/v1/nodes', { metadata: { name: `bench-${i}`, labels: { 'wharf.bench/pool': 'operator' }, annotations: { [KWOK_NODE_ANNOTATION]: 'fake' } }, status: { capacity, allocatable: capacity } });
    }
    for (const namespace of ['bench', 'bench-plain']) {
      await until(`ServiceAccount ${namespace}/default`, () => kube.get(`/api/v1/namespaces/${namespace}/serviceaccounts/default`).then(() => true, () => false), Boolean, 60_000);
    }

    // The baseline: the same pods as plain Deployments, applied directly.
    const plainStarted = Date.now();
    await Promise.all(Array.from({ length: COUNT }, (_, i) => kube.request('POST', '/apis/apps/v1/namespaces/bench-plain/deployments', {
      metadata: { name: `plain-${i}` }, spec: { replicas: 1, selector: { matchLabels: { app: `plain-${i}` } }, template: podTemplate({ app: `plain-${i}` }) },
    })));
    await until('plain Deployments available', () => kube.get<{ items: { status?: { availableReplicas?: number } }[] }>('/apis/apps/v1/namespaces/bench-plain/deployments'),
      (list) => list.items.filter((d) => d.status?.availableReplicas === 1).length === COUNT, 600_000);
    const plainSeconds = (Date.now() - plainStarted) / 1000;

    operator = await startOperatorProcess({
      KUBECONFIG: info.kubeconfig, WATCH_NAMESPACE: 'bench', REGISTRY_URL: registry.url, WHARF_TOKEN: ADMIN_TOKEN,
      HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', LEADER_ELECTION: 'false', ...(process.env.BENCH_CONCURRENCY ? { CONCURRENT_RECONCILES: process.env.BENCH_CONCURRENCY } : {}), LOG_LEVEL: process.env.BENCH_VERBOSE ? 'debug' : 'info',
    }, 60_000, { compiled: true });
    const requestsBefore = await apiserverRequests(info);
    const started = Date.now();
    await Promise.all(Array.from({ length: COUNT }, (_, i) => kube.request('POST', '/apis/wharf.dev/v1alpha1/namespaces/bench/modeldeployments', {
      apiVersion: 'wharf.dev/v1alpha1', kind: 'ModelDeployment', metadata: { name: `md-${i}` },
      spec: { model: 'bench/m:prod', runtime: { image: 'ghcr.io/acme/model-server:1' }, replicas: 1, nodeSelector: { 'wharf.bench/pool': 'operator' } },
    })));
    type Md = { status?: { conditions?: { type: string; status: string }[] } };
    await until('all ModelDeployments Ready', () => kube.get<{ items: Md[] }>('/apis/wharf.dev/v1alpha1/namespaces/bench/modeldeployments'),
      (list) => list.items.filter((md) => md.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === COUNT, 900_000);
    const allReadySeconds = (Date.now() - started) / 1000;
    const apiserverRps = (await apiserverRequests(info) - requestsBefore) / allReadySeconds;
    const stats = processStats(operator.child.pid!);
    const port = JSON.parse(operator.output.find((line) => line.includes('wharf operator running'))!).httpPort;
    const reconcileP99 = p99(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());

    if (process.env.BENCH_VERBOSE) {
      const runs = operator.output.filter((line) => line.includes('"reconciled"')).map((line) => JSON.parse(line) as { durationMs: number; outcome: string });
      console.log(`reconciles: ${runs.length}; durations (ms, sorted): ${runs.map((run) => run.durationMs).sort((a, b) => a - b).join(' ')}`);
    }
    const measures = { allReadySeconds, operatorCpuSeconds: stats.cpuSeconds, operatorPeakRssMiB: Math.round(stats.peakRssMiB), reconcileP99Seconds: reconcileP99, apiserverRequestsPerSecond: Math.round(apiserverRps) };
    const baselines = { plainDeploymentsAvailableSeconds: plainSeconds };
    const ratios = { readyVsPlainDeployments: Number((allReadySeconds / plainSeconds).toFixed(2)) };
    const met = allReadySeconds <= TARGETS.allReadySeconds && stats.peakRssMiB <= TARGETS.operatorRssMiB;
    console.log(`\n${COUNT} ModelDeployments all Ready in ${allReadySeconds.toFixed(1)} s; the same ${COUNT} plain Deployments available in ${plainSeconds.toFixed(1)} s (${ratios.readyVsPlainDeployments}×)`);
    console.log(`operator: ${stats.cpuSeconds.toFixed(1)} CPU s, peak RSS ${Math.round(stats.peakRssMiB)} MiB, reconcile p99 ≤ ${reconcileP99} s; apiserver ${Math.round(apiserverRps)} requests/s meanwhile`);
    console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    console.log(JSON.stringify({ bench: 'operator', count: COUNT, measures, baselines, ratios, targets: TARGETS, met, loadavg: loadavg() }));
    if (!met && !EXPLORE) process.exitCode = 1;
  } finally {
    await operator?.stop();
    await registry.stop();
    await stopCluster(dir);
    rmSync(work, { recursive: true, force: true });
  }
}

if (!process.env.WHARF_BENCH_IN_NETNS) reexecInNamespace();
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
