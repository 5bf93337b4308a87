import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * With TEST_DATABASE_URL (CI: the machine's real Postgres), each test registry gets a fresh
 * database of its own, dropped afterwards. Without it, tests use embedded PGlite in memory.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function createTestDatabase(): Promise<TestDatabase | undefined> {
  if (!TEST_DATABASE_URL) return undefined;
  const name = `wharf_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(TEST_DATABASE_URL, name),
    async drop() {
      const client = new Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A database several registry processes can share: a fresh Postgres database with
 * TEST_DATABASE_URL, otherwise PGlite served by this test process to many connections
 * (pglite-socket keeps an open transaction on the connection that began it).
 */
export async function createSharedDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  if (database) return database;
  const { startEmbeddedPostgres } = await import('../../src/database/embedded-postgres');
  const embedded = await startEmbeddedPostgres(undefined, 32);
  return { url: embedded.url, drop: () => embedded.stop() };
}
