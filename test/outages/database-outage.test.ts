import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import supertest from 'supertest';
import { binary, draft, sha256 } from '../support/artifacts';
import { expectProblem } from '../support/fixtures';
import { startLoad, waitUntil } from '../support/outage-load';
import { startStoppablePostgres, StoppablePostgres } from '../support/outage-services';
import { RegistryProcess, startRegistryProcess } from '../support/registry-process';
import { ADMIN_TOKEN, bearer } from '../support/test-registry';

jest.setTimeout(240_000);

const admin = bearer(ADMIN_TOKEN);

/**
 * The database stops and starts again under load while a registry process keeps running: a real
 * PostgreSQL server of the test's own (fast shutdown, then started on the same data) where one
 * is installed, else the embedded PGlite behind a proxy that refuses and resets connections.
 */
describe('a database outage', () => {
  let database: StoppablePostgres;
  let dataDir: string;
  let registry: RegistryProcess;
  let http: ReturnType<typeof supertest>;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-outage-'));
    database = await startStoppablePostgres();
    registry = await startRegistryProcess({ DATA_DIR: dataDir, DATABASE_URL: database.url, GC_INTERVAL_SECONDS: '0' }, 90_000);
    http = supertest(registry.url);
  });

  afterAll(async () => {
    await registry?.stop();
    await database?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 503 database_unavailable with Retry-After while Postgres is down, is not ready, and recovers without a restart with nothing half-applied', async () => {
    const version = `${await draft(registry.url, 'outage-db')}/1`;
    const before = randomBytes(64 * 1024);
    await http.post(`${version}/files`).set(admin).attach('file', before, { filename: 'before.bin' }).expect(201);
    const pending = randomBytes(32 * 1024);
    const upload = await http.post(`${version}/uploads`).set(admin).send({ path: 'pending.bin', size: pending.length, sha256: sha256(pending) }).expect(201);
    await http.get('/readyz').expect(200);

    const load = startLoad(registry.url, version, ['database_unavailable']);
    await waitUntil('the load has stored files', () => load.report.acknowledged.length >= 3);
    await database.stop();

    await waitUntil('readiness reports the database down', async () => (await http.get('/readyz')).status === 503, 10_000);
    const whileDown = {
      list: await http.get('/api/v1/projects').set(admin),
      download: await http.get(`${version}/files/before.bin`).set(admin),
      part: await http.put(`/api/v1/uploads/${upload.body.id}/parts/1`).set(admin).set('Content-Type', 'application/octet-stream').send(pending),
      form: await http.post(`${version}/files`).set(admin).attach('file', randomBytes(1024), { filename: 'during.bin' }),
      model: await http.post('/api/v1/projects/outage-db/models').set(admin).send({ name: 'during' }),
    };
    for (const [name, response] of Object.entries(whileDown)) {
      expect({ name, status: response.status, retryAfter: response.headers['retry-after'] }).toEqual({ name, status: 503, retryAfter: '5' });
      expectProblem(response, 503, 'database_unavailable');
      expect(response.text).not.toMatch(/ECONNREFUSED|terminating|Connection|127\.0\.0\.1|postgres/i);
    }
    expectProblem(await http.get('/readyz'), 503, 'database_unavailable');
    await waitUntil('the load has met the outage', () => load.count(503) >= 3, 10_000);

    await database.start();
    await waitUntil('readiness reports the database back', async () => (await http.get('/readyz')).status === 200, 30_000);
    const acknowledgedAtRecovery = load.report.acknowledged.length;
    await waitUntil('the load stores files again', () => load.report.acknowledged.length >= acknowledgedAtRecovery + 3, 30_000);
    const report = await load.stop();

    expect(report.unexpected).toEqual([]);
    expect(registry.child.exitCode).toBeNull();
    await http.put(`/api/v1/uploads/${upload.body.id}/parts/1`).set(admin).set('Content-Type', 'application/octet-stream').send(pending).expect(200);
    await http.post(`/api/v1/uploads/${upload.body.id}/complete`).set(admin).expect(200);
    const files = [...report.acknowledged, { path: 'before.bin', sha256: sha256(before) }, { path: 'pending.bin', sha256: sha256(pending) }];
    for (const file of files) {
      const response = await binary(http.get(`${version}/files/${file.path}`).set(admin)).expect(200);
      expect({ path: file.path, sha256: sha256(response.body as Buffer) }).toEqual(file);
    }

    // Half-applied writes would show as storage accounting that disagrees with the blobs stored.
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT s.used_bytes::bigint AS used, coalesce((SELECT sum(size) FROM blobs b WHERE b.project_id = s.project_id), 0)::bigint AS stored
           FROM project_storage s JOIN projects p ON p.id = s.project_id WHERE p.name = 'outage-db'`,
      );
      expect(rows).toEqual([{ used: rows[0].stored, stored: expect.any(String) }]);
    } finally {
      await client.end();
    }
  });
});
