import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const SERVICES = path.resolve(__dirname, '../services');
const run = promisify(execFile);

/** Runs one of test/services/*.sh and answers its last line of output. */
async function script(name: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(path.join(SERVICES, name), args, { timeout: 240_000 });
  return stdout.trim().split('\n').pop() ?? '';
}

/**
 * A TCP port that forwards to `target` and can be cut: listener closed and every connection
 * reset, so clients see ECONNREFUSED and resets exactly as from a server that stopped, and
 * opened again on the same port. Stands in for a stopped service where the machine has no
 * server binary of it.
 */
export interface SwitchableProxy {
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startSwitchableProxy(targetPort: number): Promise<SwitchableProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const open = async () => {
    if (server) return;
    server = createServer((client) => {
      const upstream = new Socket();
      sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      upstream.connect(targetPort, '127.0.0.1', () => client.pipe(upstream).pipe(client));
    });
    await new Promise<void>((resolve, reject) => server!.once('error', reject).listen(port, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  };
  const cut = async () => {
    const closing = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const socket of sockets) socket.resetAndDestroy();
    sockets.clear();
    await closing;
    server = undefined;
  };
  await open();
  return { port, cut, restore: open, close: cut };
}

export interface StoppableS3 {
  kind: 'ceph-rgw' | 's3rver';
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** The S3 server stops answering (connections refused), keeping what it stores. */
  stop(): Promise<void>;
  /** Answering again; nothing to do if it runs. */
  start(): Promise<void>;
  /** Deletes the bucket and everything in it, while stopped: the store comes back empty. */
  deleteBucket(bucket: string): Promise<void>;
  close(): Promise<void>;
}

/** Ceph RGW's gateway is installed here (test/services/ceph-rgw.sh can run a cluster). */
export function cephAvailable(): boolean {
  return spawnSync('radosgw', ['--version']).status === 0;
}

/**
 * An S3 of this test's own to stop and start: a one-node Ceph cluster whose radosgw is stopped
 * and started (test/services/ceph-rgw.sh) where Ceph is installed, else s3rver behind a
 * switchable proxy, so `npm test` on a bare machine runs the same test.
 */
export async function startStoppableS3(): Promise<StoppableS3> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-outage-s3-'));
  if (cephAvailable()) {
    const endpoint = await script('ceph-rgw.sh', 'start', dir);
    return {
      kind: 'ceph-rgw',
      endpoint,
      accessKey: 'rgwtest',
      secretKey: 'rgwtestsecret',
      stop: async () => void (await script('ceph-rgw.sh', 'stop-gateway', dir)),
      start: async () => void (await script('ceph-rgw.sh', 'start-gateway', dir)),
      deleteBucket: async (bucket) => void (await script('ceph-rgw.sh', 'delete-bucket', dir, bucket)),
      close: async () => void (await script('ceph-rgw.sh', 'stop', dir)),
    };
  }
  // s3rver ships no types.
  const S3rver = require('s3rver') as new (options: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> };
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
  const { port } = await server.run();
  const proxy = await startSwitchableProxy(port);
  return {
    kind: 's3rver',
    endpoint: `http://127.0.0.1:${proxy.port}`,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    stop: () => proxy.cut(),
    start: () => proxy.restore(),
    // s3rver keeps a bucket as a folder of that name.
    deleteBucket: (bucket) => rm(path.join(dir, bucket), { recursive: true, force: true }),
    async close() {
      await proxy.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface StoppablePostgres {
  kind: 'postgres' | 'embedded';
  url: string;
  stop(): Promise<void>;
  /** Answering again; nothing to do if it runs. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A PostgreSQL server binary is installed here (test/services/postgres.sh can run one). */
export function postgresAvailable(): boolean {
  const root = '/usr/lib/postgresql';
  return existsSync(root) && readdirSync(root).some((version) => existsSync(path.join(root, version, 'bin', 'postgres')));
}

/**
 * A database of this test's own to stop and start: a real PostgreSQL server (fast shutdown, so
 * sessions get 57P01, then started again on the same data and port) where one is installed;
 * else the embedded PGlite the registry defaults to, behind a switchable proxy, so a bare
 * machine still runs the test (connections refused and reset, as from a stopped server).
 */
export async function startStoppablePostgres(): Promise<StoppablePostgres> {
  if (postgresAvailable()) {
    const dir = await mkdtemp(path.join(tmpdir(), 'wharf-outage-pg-'));
    const url = await script('postgres.sh', 'start', dir);
    return {
      kind: 'postgres',
      url,
      stop: async () => void (await script('postgres.sh', 'stop-server', dir)),
      start: async () => void (await script('postgres.sh', 'start-server', dir)),
      close: async () => void (await script('postgres.sh', 'stop', dir)),
    };
  }
  const { startEmbeddedPostgres } = await import('../../src/database/embedded-postgres');
  const embedded = await startEmbeddedPostgres(undefined, 32);
  const target = new URL(embedded.url);
  const proxy = await startSwitchableProxy(Number(target.port));
  target.port = String(proxy.port);
  return {
    kind: 'embedded',
    url: target.toString(),
    stop: () => proxy.cut(),
    start: () => proxy.restore(),
    async close() {
      await proxy.close();
      await embedded.stop();
    },
  };
}
