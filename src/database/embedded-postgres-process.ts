import { open, readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import { isProcessRunning } from '../common/process-running';
import { PgliteServer, servePglite } from './pglite-server';

/**
 * The embedded database's own process, started by `startEmbeddedPostgres`. PGlite runs here
 * rather than in the registry so that its WebAssembly heap (150 MiB and more) is not the
 * registry's memory and its query work never stalls the event loop that streams artifacts.
 *
 * It lives exactly as long as its parent: it stops when told to over IPC or when the IPC
 * channel closes (the registry exited or was killed), always closing the database cleanly.
 * Signals meant for the process group (Ctrl-C) are ignored, so the registry can still run its
 * last queries while it shuts down.
 *
 * argv: <dataDir or empty for in memory> <max connections>
 */

/**
 * A registry's metadata is small: Postgres' default 128 MB of shared buffers would mostly hold
 * nothing but still cost resident memory in the WebAssembly heap.
 */
const EMBEDDED_SETTINGS = { postgresqlconf: 'shared_buffers = 16MB' };

/** How long a new process waits for the previous owner of a data directory to close it. */
const LOCK_WAIT_MS = 15_000;

export type EmbeddedPostgresMessage = { port: number } | { error: string };

/**
 * One PGlite per data directory: two would corrupt it. The lock file holds the owner's pid; a
 * lock whose owner is gone is taken over, a live owner (a database still closing after its
 * registry was killed) is waited for.
 */
async function lockDataDir(dataDir: string): Promise<string> {
  const lockFile = `${dataDir}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return lockFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
    if (!isProcessRunning(owner)) {
      await rm(lockFile, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`the embedded database in ${dataDir} is in use by process ${owner} (another registry with the same DATA_DIR?); stop it or use another DATA_DIR`);
    }
    await sleep(100);
  }
}

async function main(): Promise<void> {
  // Resolves once the message is written to the channel, so an exit right after cannot lose it.
  const send = (message: EmbeddedPostgresMessage) => new Promise<void>((resolve) => (process.send ? process.send(message, () => resolve()) : resolve()));
  const [dataDir, maxConnections] = [process.argv[2] || undefined, Number(process.argv[3] ?? 4)];
  process.title = 'wharf-embedded-postgres';
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);

  let lockFile: string | undefined;
  let db: PGlite | undefined;
  let server: PgliteServer | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await server?.stop().catch(() => undefined);
    await db?.close().catch(() => undefined);
    if (lockFile) await rm(lockFile, { force: true });
    process.exit(code);
  };
  // Registered first: a parent that dies while this process starts still takes it down.
  process.on('disconnect', () => void stop(0));
  process.on('message', (message) => message === 'stop' && void stop(0));

  try {
    if (dataDir) lockFile = await lockDataDir(dataDir);
    db = await PGlite.create(dataDir ? { dataDir, ...EMBEDDED_SETTINGS } : EMBEDDED_SETTINGS);
    server = await servePglite(db, maxConnections);
    await send({ port: server.port });
  } catch (error) {
    await send({ error: error instanceof Error ? error.message : String(error) });
    await stop(1);
  }
}

void main();
