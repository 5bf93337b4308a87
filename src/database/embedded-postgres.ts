import { execFile } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { servePglite } from './pglite-server';

/**
 * A registry's metadata is small: Postgres' default 128 MB of shared buffers would mostly hold
 * nothing but still cost resident memory in the WebAssembly heap.
 */
const EMBEDDED_SETTINGS = { postgresqlconf: 'shared_buffers = 16MB' };

function initializeCluster(dataDir: string): Promise<void> {
  const script = `require('@electric-sql/pglite').PGlite.create({ dataDir: process.argv[1] }).then((db) => db.close())`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script, dataDir], { cwd: __dirname }, (error, _stdout, stderr) =>
      error ? reject(new Error(`creating the embedded database in ${dataDir} failed: ${stderr || error.message}`)) : resolve(),
    );
  });
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

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
  if (dataDir) {
    await mkdir(dataDir, { recursive: true });
    // Creating the cluster (initdb) leaves the WebAssembly heap of this process at about
    // 700 MiB for good; done in a short-lived child process, the registry's own PGlite starts
    // on the finished cluster at about 150 MiB.
    if (!(await exists(path.join(dataDir, 'PG_VERSION')))) await initializeCluster(dataDir);
  }
  const db = await PGlite.create(dataDir ? { dataDir, ...EMBEDDED_SETTINGS } : EMBEDDED_SETTINGS);
  const server = await servePglite(db, maxConnections);
  return {
    url: `postgresql://postgres@127.0.0.1:${server.port}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
