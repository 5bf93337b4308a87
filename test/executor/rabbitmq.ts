import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const SCRIPT = path.resolve(__dirname, '../services/rabbitmq.sh');
const run = promisify(execFile);

export interface TestRabbit {
  url: string;
  /** Stops the node (its queues are on disk) and starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A machine where a RabbitMQ node can be started: Debian's rabbitmq-server installed, or root
 * (rabbitmq.sh installs it). `npm test` on a bare machine without it leaves the async tests out,
 * as it leaves out the Redis ones without redis-server; CI has both.
 */
export function rabbitAvailable(): boolean {
  return existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server') || process.getuid?.() === 0;
}

async function script(command: string, dir: string): Promise<string> {
  const { stdout } = await run('bash', [SCRIPT, command, dir], { timeout: 300_000 });
  return stdout.trim().split('\n').pop() ?? '';
}

/**
 * A RabbitMQ node of this test file's own (test/services/rabbitmq.sh in a temp folder): tests
 * that stop the broker must not stop the one other tests share (TEST_AMQP_URL).
 */
export async function startOwnRabbit(): Promise<TestRabbit> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-rabbit-'));
  const url = await script('start', dir);
  return {
    url,
    stop: async () => void (await script('stop', dir)),
    start: async () => void (await script('start', dir)),
    async restart() {
      await script('stop', dir);
      await script('start', dir);
    },
    async close() {
      await script('down', dir).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
