/**
 * `npm run bench:fleet [-- --sizes=100,1000,10000 --seconds=15 --rate=100 --explore]`
 *
 * Simulated node agents heartbeat a registry (its own child process, compiled, on real
 * Postgres: BENCH_DATABASE_URL or TEST_DATABASE_URL, one fresh database per run) at `rate`
 * heartbeats a second in all, whatever the fleet size (each node beats every size/rate
 * seconds), with 0 and 100 warm-ups (half capped at 3 nodes). Each node reports 20 cache
 * entries, one of them making progress. Per run: heartbeat p50/p99, registry CPU and Postgres
 * CPU (the database's backends) per heartbeat, from /proc/<pid>/stat.
 *
 * Side by side with the registry before issue 22 when BENCH_FLEET_BASELINE names a checkout
 * with a built dist/ (e.g. /work/main): it gets whole inventories, as its agents sent them.
 *
 * Targets (issue 22): at 10,000 nodes with 100 warm-ups, p99 ≤ 100 ms and registry CPU ≤ 1 ms
 * per heartbeat; registry CPU per heartbeat at 10,000 nodes ÷ at 100 nodes ≤ 1.5. The last line
 * is one JSON object; the exit code is 1 when a target is missed, unless --explore.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { cpuBetween, cpuMs, cpuOf, percentile, runLoad } from './fleet-load';
import { FleetRun, seedFleet, startFleetRegistry } from './fleet-setup';

const ROOT = path.resolve(__dirname, '..');
const option = (name: string, fallback: string) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const SIZES = option('sizes', '100,1000,10000').split(',').map(Number);
const SECONDS = Number(option('seconds', '15'));
const RATE = Number(option('rate', '100'));
const WARMUPS = option('warmups', '0,100').split(',').map(Number);
const EXPLORE = process.argv.includes('--explore') || process.env.BENCH_EXPLORE === '1';
const BASELINE = process.env.BENCH_FLEET_BASELINE;
const DATABASE_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL;

interface Row {
  registry: string;
  nodes: number;
  warmups: number;
  p50: number;
  p99: number;
  registryCpu: number;
  postgresCpu: number;
  achieved: number;
  failed: number;
  skipped: number;
  load: number;
  /** Registry CPU per GET /healthz in the same run: the floor any request pays on this machine now. */
  floorCpu: number;
}

/** CPU per request of the cheapest route, read like the heartbeats' (a yardstick for load). */
async function floorCpu(run: FleetRun): Promise<number> {
  const requests = 200;
  const before = await cpuMs(run.pid);
  try {
    for (let i = 0; i < requests; i++) await fetch(`${run.url}/healthz`).then((response) => response.text());
  } catch {
    return NaN; // a registry too busy to answer (the baseline at 10,000 nodes): no yardstick
  }
  return ((await cpuMs(run.pid)) - before) / requests;
}

async function measure(registry: { name: string; root: string; delta: boolean }, nodes: number, warmups: number): Promise<Row> {
  const run: FleetRun = await startFleetRegistry(DATABASE_URL!, registry.root);
  try {
    const fleet = await seedFleet(run, nodes, warmups, registry.delta);
    // Settle first (placements, caches, JIT), then measure a fresh window.
    await runLoad(run.url, run.agentToken, fleet, { rate: RATE, seconds: Math.min(5, SECONDS), delta: registry.delta, maxInFlight: 64, offset: 0 });
    await run.placementsSettled();
    const floor = await floorCpu(run);
    const pids = [run.pid, ...(await run.backendPids())];
    const before = await cpuOf(pids);
    const offset = Math.round(RATE * Math.min(5, SECONDS));
    const result = await runLoad(run.url, run.agentToken, fleet, { rate: RATE, seconds: SECONDS, delta: registry.delta, maxInFlight: 64, offset });
    const after = await cpuOf([...new Set([...pids, ...(await run.backendPids())])]);
    const served = Math.max(1, result.ok);
    return {
      registry: registry.name,
      nodes,
      warmups,
      p50: percentile(result.latenciesMs, 50),
      p99: percentile(result.latenciesMs, 99),
      registryCpu: (after.get(run.pid)! - before.get(run.pid)!) / served,
      postgresCpu: cpuBetween(withoutPid(before, run.pid), withoutPid(after, run.pid)) / served,
      achieved: result.ok / result.seconds,
      failed: result.failed,
      skipped: result.skipped,
      load: loadavg()[0],
      floorCpu: floor,
    };
  } finally {
    await run.stop();
  }
}

const withoutPid = (cpu: Map<number, number>, pid: number) => new Map([...cpu].filter(([other]) => other !== pid));

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '—');

function printRow(row: Row): void {
  console.log(
    `${row.registry.padEnd(9)} ${String(row.nodes).padStart(6)} nodes ${String(row.warmups).padStart(4)} warm-ups  ` +
      `p50 ${fixed(row.p50, 1).padStart(8)} ms  p99 ${fixed(row.p99, 1).padStart(8)} ms  ` +
      `registry ${fixed(row.registryCpu).padStart(6)} ms/hb  postgres ${fixed(row.postgresCpu).padStart(6)} ms/hb  ` +
      `${fixed(row.achieved, 0).padStart(4)} hb/s  failed ${row.failed} skipped ${row.skipped}  (healthz ${fixed(row.floorCpu)} ms)  load ${fixed(row.load)}`,
  );
}

function targets(rows: Row[]) {
  const wharf = (nodes: number, warmups: number) => rows.find((row) => row.registry === 'wharf' && row.nodes === nodes && row.warmups === warmups);
  const big = wharf(10_000, 100);
  const small = wharf(100, 100);
  const result: Record<string, { value: number; atMost: number; met: boolean }> = {};
  const add = (name: string, value: number | undefined, atMost: number) => {
    if (value !== undefined) result[name] = { value: Number(value.toPrecision(4)), atMost, met: value <= atMost };
  };
  add('p99 ms at 10000 nodes, 100 warm-ups', big?.p99, 100);
  add('registry CPU ms/heartbeat at 10000 nodes, 100 warm-ups', big?.registryCpu, 1);
  add('registry CPU per heartbeat 10000 ÷ 100 nodes (100 warm-ups)', big && small ? big.registryCpu / small.registryCpu : undefined, 1.5);
  return result;
}

function ratios(rows: Row[]): Record<string, number> {
  const result: Record<string, number> = {};
  for (const row of rows.filter((r) => r.registry === 'baseline')) {
    const ours = rows.find((r) => r.registry === 'wharf' && r.nodes === row.nodes && r.warmups === row.warmups);
    if (!ours) continue;
    const key = `${row.nodes} nodes ${row.warmups} warm-ups`;
    result[`registry CPU wharf ÷ baseline, ${key}`] = Number((ours.registryCpu / row.registryCpu).toPrecision(3));
    result[`p99 wharf ÷ baseline, ${key}`] = Number((ours.p99 / row.p99).toPrecision(3));
  }
  return result;
}

async function main(): Promise<void> {
  if (!DATABASE_URL) throw new Error('bench:fleet needs real Postgres: set BENCH_DATABASE_URL or TEST_DATABASE_URL (`. /tmp/wharf-services/env`)');
  const build = spawnSync(process.execPath, ['scripts/build.js', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  const registries = [{ name: 'wharf', root: ROOT, delta: true }];
  if (BASELINE && existsSync(path.join(BASELINE, 'dist/src/main.js'))) registries.push({ name: 'baseline', root: BASELINE, delta: false });
  else console.log('(no baseline: set BENCH_FLEET_BASELINE to a checkout with dist/, e.g. /work/main)');
  const loadBefore = loadavg().map((value) => Number(value.toFixed(2)));
  console.log(`bench:fleet  ${RATE} heartbeats/s, ${SECONDS} s per run, 20 entries per node; load average ${loadBefore.join(' ')}`);
  const rows: Row[] = [];
  for (const nodes of SIZES) {
    for (const warmups of WARMUPS) {
      for (const registry of registries) {
        const row = await measure(registry, nodes, warmups);
        printRow(row);
        rows.push(row);
      }
    }
  }
  const targetResults = targets(rows);
  const met = Object.values(targetResults).every((target) => target.met);
  for (const [name, target] of Object.entries(targetResults)) console.log(`target ${name}: ${target.value} (≤ ${target.atMost}) ${target.met ? 'met' : 'MISSED'}`);
  const measures = Object.fromEntries(rows.filter((r) => r.registry === 'wharf').map((r) => [`${r.nodes} nodes ${r.warmups} warm-ups`, r]));
  const baselines = Object.fromEntries(rows.filter((r) => r.registry === 'baseline').map((r) => [`${r.nodes} nodes ${r.warmups} warm-ups`, r]));
  const load = { before: loadBefore, after: loadavg().map((value) => Number(value.toFixed(2))) };
  console.log(JSON.stringify({ bench: 'fleet', measures, baselines, ratios: ratios(rows), targets: targetResults, met, explore: EXPLORE, runs: 1, load }));
  process.exitCode = met || EXPLORE ? 0 : 1;
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(2);
});
