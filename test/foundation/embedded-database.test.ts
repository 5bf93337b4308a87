import { mkdtemp, readFile, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import supertest from 'supertest';
import { isProcessRunning } from '../../src/common/process-running';
import { embeddedDatabasePid, RegistryProcess, startRegistryProcess } from '../support/registry-process';
import { eventually } from '../support/eventually';
import { ADMIN_TOKEN, bearer } from '../support/test-registry';

async function databaseOf(registry: RegistryProcess): Promise<number> {
  const pid = await embeddedDatabasePid(registry);
  if (pid === null) throw new Error(`process ${registry.child.pid} runs no embedded database`);
  return pid;
}

describe('the embedded database (no DATABASE_URL)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-embedded-db-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs in a process of its own that follows the registry, even one killed with SIGKILL', async () => {
    const first = await startRegistryProcess({ DATA_DIR: dataDir });
    const database = await databaseOf(first);
    expect(database).not.toBe(first.child.pid);
    expect((await readFile(path.join(dataDir, 'postgres.lock'), 'utf8')).trim()).toBe(String(database));
    await supertest(first.url).post('/api/v1/projects').set(bearer(ADMIN_TOKEN)).send({ name: 'survives' }).expect(201);

    await first.kill();
    // The database closes cleanly on its own and gives the data directory up.
    await eventually(async () => !isProcessRunning(database) || Promise.reject(new Error('still running')), 'the embedded database to exit', 15_000, 50);
    await expect(access(path.join(dataDir, 'postgres.lock'))).rejects.toThrow();

    const second = await startRegistryProcess({ DATA_DIR: dataDir });
    try {
      const projects = await supertest(second.url).get('/api/v1/projects').set(bearer(ADMIN_TOKEN)).expect(200);
      expect(projects.body.items.map((project: { name: string }) => project.name)).toEqual(['survives']);
    } finally {
      await second.stop();
    }
  }, 60_000);

  it('refuses a second registry on a data directory in use, naming the process that holds it', async () => {
    const holder = await startRegistryProcess({ DATA_DIR: dataDir });
    try {
      const database = await databaseOf(holder);
      const refused = await startRegistryProcess({ DATA_DIR: dataDir }, 40_000).catch((error: Error) => error);
      expect(refused).toBeInstanceOf(Error);
      expect((refused as Error).message).toContain(`in use by process ${database}`);
      // The holder is untouched.
      await supertest(holder.url).get('/api/v1/projects').set(bearer(ADMIN_TOKEN)).expect(200);
    } finally {
      await holder.stop();
    }
  }, 60_000);
});
