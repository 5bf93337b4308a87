import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import supertest from 'supertest';
import { draft } from '../support/artifacts';
import { expectProblem } from '../support/fixtures';
import { CUT_SHORT_FORM, formBody, postForm, startForm } from '../support/forms';
import { eventually } from '../support/eventually';
import { RegistryProcess, startRegistryProcess } from '../support/registry-process';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { ADMIN_TOKEN, bearer } from '../support/test-registry';

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name))).sort();
}

/** The registry as operators run it: a process of its own, which one request must not bring down. */
describe('a registry process sent broken form uploads', () => {
  let dataDir: string;
  let database: TestDatabase | undefined;
  let registry: RegistryProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-form-process-'));
    database = await createTestDatabase();
    registry = await startRegistryProcess({ DATA_DIR: dataDir, ...(database ? { DATABASE_URL: database.url } : {}) }, 90_000);
  }, 120_000);
  afterAll(async () => {
    await registry?.kill();
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers a form cut short with 400 problem+json, stores nothing of it and goes on serving', async () => {
    const url = registry!.url;
    const versions = await draft(url, 'p-cut');
    const blobs = path.join(dataDir, 'blobs');
    const before = await filesUnder(blobs);

    const answer = await postForm(`${url}${versions}/1/files`, CUT_SHORT_FORM);
    expectProblem(answer as never, 400, 'validation_failed');
    expect(answer.body.detail).toMatch(/closing boundary/);
    expect(registry!.child.exitCode).toBeNull();
    expect(await filesUnder(blobs)).toEqual(before);

    // A client that dies in the middle of a file: nothing of it stays either.
    const head = formBody([{ name: 'a.bin', data: Buffer.alloc(64 * 1024, 1) }]).subarray(0, 32 * 1024);
    await startForm(`${url}${versions}/1/files`, 1024 * 1024, head).abort();
    // Its clean-up runs after the connection is gone; nothing but the store's folders shows it.
    await eventually(async () => JSON.stringify(await filesUnder(blobs)) === JSON.stringify(before), 'the aborted form to leave nothing behind');

    const http = supertest(url);
    await http.get('/healthz').expect(200);
    const good = await postForm(`${url}${versions}/1/files`, formBody([{ name: 't.bin', data: 'XXXX' }]));
    expect(good.status).toBe(201);
    const list = await http.get(`${versions}/1/files`).set(bearer(ADMIN_TOKEN)).expect(200);
    expect(list.body.items.map((item: { path: string }) => item.path)).toEqual(['t.bin']);
    const storage = await http.get('/api/v1/projects/p-cut/storage').set(bearer(ADMIN_TOKEN)).expect(200);
    expect(storage.body.usedBytes).toBe(4);
    // The one blob of t.bin, and no temp file of the two broken forms.
    const added = (await filesUnder(blobs)).filter((file) => !before.includes(file));
    expect(added).toEqual([expect.stringMatching(/^objects\/blobs\//)]);
    expect(registry!.child.exitCode).toBeNull();
  });
});
