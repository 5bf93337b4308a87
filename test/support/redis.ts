import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { eventually } from './eventually';
import { freePort } from './ports';

export interface TestRedis {
  url: string;
  close(): Promise<void>;
}

/**
 * A Redis for tests that share counters between registries: TEST_REDIS_URL when set (CI starts
 * one with test/services/redis.sh), else a redis-server of this machine started on a free port for
 * the test file, else null. `npm test` on embedded defaults must not need a server, so a machine
 * without Redis leaves those tests out, as one without Ceph leaves out the RGW contract run.
 */
export function redisAvailable(): boolean {
  return Boolean(process.env.TEST_REDIS_URL) || spawnSync('redis-server', ['--version']).status === 0;
}

export async function startTestRedis(): Promise<TestRedis> {
  if (process.env.TEST_REDIS_URL) return { url: process.env.TEST_REDIS_URL, close: async () => undefined };
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-redis-'));
  const server = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  await waitForPort(port, 10_000);
  return {
    url: `redis://127.0.0.1:${port}`,
    async close() {
      server.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => (socket.destroy(), resolve(true))).once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
  await eventually(accepts, `redis-server to listen on 127.0.0.1:${port}`, { timeoutMs, everyMs: 50 });
}
