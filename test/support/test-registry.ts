import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import supertest from 'supertest';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/observability/logger';
import { createRegistry, Registry } from '../../src/registry';
import { createTestDatabase } from './test-database';

export const ADMIN_TOKEN = 'wharf_test_admin_token_0123456789abcdef';

export interface TestRegistry {
  url: string;
  registry: Registry;
  dataDir: string;
  /** A supertest agent bound to the registry's real HTTP port. */
  http: ReturnType<typeof supertest>;
  /** Rows in a table, to prove a refused request stored nothing. */
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts a whole registry on a loopback port, the way main.ts does: real HTTP, real database
 * (a fresh Postgres database with TEST_DATABASE_URL, in-memory PGlite otherwise).
 */
export async function startTestRegistry(env: Record<string, string> = {}): Promise<TestRegistry> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-test-'));
  const config = loadConfig({
    WHARF_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? config.LOG_LEVEL);
  const registry = await createRegistry(config, { logger, inMemoryDatabase: true });
  await registry.app.listen(0, '127.0.0.1');
  const { port } = registry.app.getHttpServer().address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    registry,
    dataDir,
    http: supertest(url),
    async count(table: string) {
      const rows: { count: number }[] = await registry.dataSource.query(`SELECT count(*)::int AS count FROM ${table}`);
      return rows[0].count;
    },
    async close() {
      await registry.close();
      await database?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
