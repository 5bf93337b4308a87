import { ChildProcess, execFile, fork } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { EmbeddedPostgresMessage } from './embedded-postgres-process';

/** Runs from the sources (tests, `npm run start:dev`) or from dist/ (`npm start`). */
const RUNS_FROM_SOURCES = path.extname(__filename) === '.ts';
const CHILD_EXEC_ARGV = RUNS_FROM_SOURCES ? ['-r', '@swc-node/register'] : [];
const STARTUP_TIMEOUT_MS = 60_000;

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
  /** The database process, for measurements. */
  pid: number;
  stop(): Promise<void>;
}

/**
 * Runs PGlite (Postgres compiled to WebAssembly) in a child process of its own
 * (`embedded-postgres-process.ts`) and serves it on a loopback port, so TypeORM's ordinary `pg`
 * driver talks to it like any Postgres. PGlite is a single session; several connections take
 * turns on it, one transaction at a time. The child follows this process: it closes the
 * database and exits when this process stops or dies.
 *
 * `dataDir` undefined keeps the database in memory (tests).
 */
export async function startEmbeddedPostgres(dataDir?: string, maxConnections = 4): Promise<EmbeddedPostgres> {
  if (dataDir) {
    await mkdir(dataDir, { recursive: true });
    // Creating the cluster (initdb) leaves a WebAssembly heap of about 700 MiB for good; done
    // in a short-lived process, the serving one starts on the finished cluster at about 150 MiB.
    if (!(await exists(path.join(dataDir, 'PG_VERSION')))) await initializeCluster(dataDir);
  }
  const entry = path.join(__dirname, `embedded-postgres-process${path.extname(__filename)}`);
  const child = fork(entry, [dataDir ?? '', String(maxConnections)], {
    execArgv: CHILD_EXEC_ARGV,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // An IPC write to a child that is already exiting (it refused to start) fails with EPIPE;
  // its exit is what counts, and that is awaited.
  child.on('error', () => undefined);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the embedded database did not start within ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
    child.once('message', (message: EmbeddedPostgresMessage) => {
      clearTimeout(timer);
      if ('port' in message) resolve(message.port);
      else reject(new Error(`the embedded database could not start: ${message.error}`));
    });
    child.once('exit', (code, signal) => {
      const fail = () => {
        clearTimeout(timer);
        reject(new Error(`the embedded database exited with ${signal ?? code} before it was ready`));
      };
      // A reason it sent just before exiting may still be on its way: the channel closes after it.
      if (child.connected) child.once('disconnect', fail);
      else fail();
    });
  }).catch(async (error: unknown) => {
    await stopChild(child, exited);
    throw error;
  });
  // The child must not keep this process alive on its own: it is stopped explicitly, or it
  // notices this process is gone.
  child.unref();
  child.channel?.unref();
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    pid: child.pid!,
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (child.connected) child.send('stop', (error) => error && child.kill('SIGKILL'));
  else child.kill('SIGKILL');
  await exited;
}
