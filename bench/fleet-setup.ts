/**
 * The registry under test for `bench:fleet`: a fresh Postgres database, the compiled registry
 * of a checkout as a child process, and a fleet seeded straight into the database (so 10,000
 * nodes exist in a second instead of after 10,000 registrations).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import type { SimulatedNode } from './fleet-load';

const ADMIN_TOKEN = 'wharf_bench_admin_token_0123456789abcdef';
const VERSIONS = 50;
const ENTRIES_PER_NODE = 20;

export interface FleetRun {
  url: string;
  pid: number;
  agentToken: string;
  db: Client;
  backendPids(): Promise<number[]>;
  /** Resolves once no capped warm-up waits to be placed (at once on a registry without placement). */
  placementsSettled(): Promise<void>;
  stop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function call(base: string, method: string, route: string, token: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(new URL(route, base), {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

async function waitUntilUp(url: string, child: ChildProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`registry exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/readyz`).then((response) => response.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`registry at ${url} not ready within ${timeoutMs} ms`);
}

/** A fresh database and the registry of `root` (its dist/) on it, with an agent token. */
export async function startFleetRegistry(databaseUrl: string, root: string): Promise<FleetRun> {
  const name = `wharf_bench_fleet_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(databaseUrl, name);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-fleet-'));
  const port = await freePort();
  // BENCH_FLEET_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the registry.
  const nodeArgs = (process.env.BENCH_FLEET_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, 'dist/src/main.js'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: url,
      DATA_DIR: dataDir,
      WHARF_ADMIN_TOKEN: ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
      NODE_READY_TIMEOUT_SECONDS: '3600',
      RATE_LIMIT_AGENT: '10000000/60s',
      RATE_LIMIT_WRITE: '10000000/60s',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const db = new Client({ connectionString: url });
  const stop = async () => {
    await db.end().catch(() => undefined);
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const cleanup = new Client({ connectionString: databaseUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await cleanup.end();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitUntilUp(base, child);
    await db.connect();
    const token = await call(base, 'POST', '/api/v1/tokens', ADMIN_TOKEN, { name: 'agents', principal: 'node-agents', principalKind: 'node-agent' });
    const backendPids = async () =>
      (await db.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)).rows.map((row) => Number(row.pid));
    const placementsSettled = async () => {
      const placed = (await db.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'warmups' AND column_name = 'placement_stale'`)).rowCount === 1;
      for (let deadline = Date.now() + 120_000; placed && Date.now() < deadline; ) {
        const stale = await db.query(`SELECT 1 FROM warmups WHERE placement_stale AND max_nodes IS NOT NULL LIMIT 1`);
        if (!stale.rowCount) return;
        // Placement runs in heartbeats: a probe node's (its labels match no selector with a vacancy to fill).
        await fetch(`${base}/api/v1/nodes/bench-probe`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token.token as string}`, 'content-type': 'application/json' },
          body: JSON.stringify({ labels: { zone: 'probe' }, capacityBytes: 1, budgetBytes: 1, usedBytes: 0, entries: [], demands: [] }),
        });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    return { url: base, pid: child.pid!, agentToken: token.token as string, db, backendPids, placementsSettled, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

const nodeName = (i: number) => `node-${String(i).padStart(5, '0')}`;
const versionOf = (i: number, k: number) => ((i * 7 + k) % VERSIONS) + 1;

/**
 * A project `fleet` with model `m` and 50 ready versions, `nodes` nodes holding 20 of them
 * each (the first one still pulling), and `warmups` warm-ups through the API: half capped at
 * 3 nodes, a quarter for every node and the rest for the `pool=gpu` half of the fleet.
 */
export async function seedFleet(run: FleetRun, nodes: number, warmups: number, delta: boolean): Promise<SimulatedNode[]> {
  await call(run.url, 'POST', '/api/v1/projects', ADMIN_TOKEN, { name: 'fleet' });
  await call(run.url, 'POST', '/api/v1/projects/fleet/models', ADMIN_TOKEN, { name: 'm' });
  const model = (await run.db.query(`SELECT m.id FROM models m JOIN projects p ON p.id = m.project_id WHERE p.name = 'fleet' AND m.name = 'm'`)).rows[0] as { id: string };
  await run.db.query(
    `INSERT INTO model_versions (model_id, number, state, manifest_digest, created_by, committed_at)
     SELECT $1, n, 'ready', 'sha256:' || lpad(to_hex(n), 64, '0'), 'bench', now() FROM generate_series(1, $2) n`,
    [model.id, VERSIONS],
  );
  const fleetColumns = (await run.db.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'nodes' AND column_name = 'inventory_sequence'`)).rowCount === 1;
  await run.db.query(
    `INSERT INTO nodes (name, labels, capacity_bytes, budget_bytes, used_bytes, agent_version, reported_by ${fleetColumns ? ', assignable, inventory_sequence' : ''})
     SELECT 'node-' || lpad(i::text, 5, '0'), jsonb_build_object('pool', CASE WHEN i % 2 = 0 THEN 'gpu' ELSE 'cpu' END, 'zone', 'z' || (i % 10)),
            1e12, 5e11, 1e11, 'bench', 'node-agents' ${fleetColumns ? ', true, 1' : ''}
       FROM generate_series(0, $1 - 1) i`,
    [nodes],
  );
  await run.db.query(
    `INSERT INTO node_cache_entries (node_name, version_id, state, bytes_done, bytes_total)
     SELECT 'node-' || lpad(i::text, 5, '0'), v.id, CASE WHEN k = 0 THEN 'pulling' ELSE 'ready' END, CASE WHEN k = 0 THEN 0 ELSE 1000 END, 1000
       FROM generate_series(0, $1 - 1) i CROSS JOIN generate_series(0, $2 - 1) k
       JOIN model_versions v ON v.model_id = $3 AND v.number = ((i * 7 + k) % $4) + 1`,
    [nodes, ENTRIES_PER_NODE, model.id, VERSIONS],
  );
  for (let i = 0; i < warmups; i++) {
    const selector = { matchLabels: i % 4 === 1 ? {} : { pool: 'gpu' } };
    await call(run.url, 'POST', '/api/v1/projects/fleet/warmups', ADMIN_TOKEN, { model: 'm', ref: `@${(i % VERSIONS) + 1}`, selector, ...(i % 2 === 0 ? { maxNodes: 3 } : {}) });
  }
  await run.db.query('ANALYZE');
  return Array.from({ length: nodes }, (_, i) => ({
    name: nodeName(i),
    labels: { pool: i % 2 === 0 ? 'gpu' : 'cpu', zone: `z${i % 10}` },
    sequence: delta && fleetColumns ? 1 : 0,
    entries: Array.from({ length: ENTRIES_PER_NODE }, (_, k) => ({
      project: 'fleet',
      model: 'm',
      version: versionOf(i, k),
      state: k === 0 ? 'pulling' : 'ready',
      bytesDone: k === 0 ? 0 : 1000,
      bytesTotal: 1000,
    })),
  }));
}
