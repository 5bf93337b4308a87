import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { servePglite } from './pglite-server';

export interface EmbeddedPostgres {
  /** A postgres:// URL that the `pg` driver connects to unchanged. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Runs PGlite (Postgres compiled to WebAssembly) in this process and serves it on a loopback
 * port, so TypeORM's ordinary `pg` driver talks to it like any Postgres. PGlite is a single
 * session; several connections take turns on it, one transaction at a time.
 *
 * `dataDir` undefined keeps the database in memory (tests).
 */
export async function startEmbeddedPostgres(dataDir?: string, maxConnections = 4): Promise<EmbeddedPostgres> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir ? { dataDir } : undefined);
  const server = await servePglite(db, maxConnections);
  return {
    url: `postgresql://postgres@127.0.0.1:${server.port}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
