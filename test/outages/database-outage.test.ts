import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import supertest from 'supertest';
import { expectProblem } from '../support/fixtures';
import { eventually } from '../support/eventually';
import { beginOutageScenario, expectAllUnavailable, finishOutageScenario, sendPendingPart } from '../support/outage-scenario';
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
    const scenario = await beginOutageScenario(registry.url, 'outage-db', 'database_unavailable');
    const { version, load } = scenario;
    await database.stop();

    await eventually(async () => (await http.get('/readyz')).status === 503, 'readiness reports the database down', 10_000);
    const whileDown = {
      list: await http.get('/api/v1/projects').set(admin),
      download: await http.get(`${version}/files/before.bin`).set(admin),
      part: await sendPendingPart(scenario),
      form: await http.post(`${version}/files`).set(admin).attach('file', randomBytes(1024), { filename: 'during.bin' }),
      model: await http.post('/api/v1/projects/outage-db/models').set(admin).send({ name: 'during' }),
    };
    expectAllUnavailable(whileDown, 'database_unavailable');
    for (const response of Object.values(whileDown)) {
      expect(response.text).not.toMatch(/ECONNREFUSED|terminating|Connection|127\.0\.0\.1|postgres/i);
    }
    expectProblem(await http.get('/readyz'), 503, 'database_unavailable');
    await eventually(() => load.count(503) >= 3, 'the load has met the outage', 10_000);

    await database.start();
    await finishOutageScenario(scenario, 30_000);
    expect(registry.child.exitCode).toBeNull();

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
