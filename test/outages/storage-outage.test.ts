import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import supertest from 'supertest';
import { binary, draft, sha256 } from '../support/artifacts';
import { expectProblem } from '../support/fixtures';
import { eventually } from '../support/eventually';
import { beginOutageScenario, expectAllUnavailable, finishOutageScenario, sendPendingPart } from '../support/outage-scenario';
import { startStoppableS3, StoppableS3 } from '../support/outage-services';
import { RegistryProcess, startRegistryProcess } from '../support/registry-process';
import { ADMIN_TOKEN, bearer } from '../support/test-registry';
import { createSharedDatabase, TestDatabase } from '../support/test-database';

jest.setTimeout(240_000);

const BUCKET = 'wharf-outage';
const admin = bearer(ADMIN_TOKEN);

/**
 * The object store stops and starts again under load, and comes back empty, while a registry
 * process keeps running: real Ceph RGW where Ceph is installed (its gateway stopped and started,
 * its bucket deleted with radosgw-admin), else s3rver behind a proxy that refuses connections.
 */
describe('an object store outage', () => {
  let s3: StoppableS3;
  let database: TestDatabase;
  let dataDir: string;
  let registry: RegistryProcess;
  let http: ReturnType<typeof supertest>;

  beforeAll(async () => {
    // One after the other: both are heavy to start, and on a busy machine together they time out.
    database = await createSharedDatabase();
    s3 = await startStoppableS3();
    dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-outage-'));
    registry = await startRegistryProcess({
      DATA_DIR: dataDir,
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: BUCKET,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      GC_INTERVAL_SECONDS: '0',
      DATABASE_URL: database.url,
    }, 90_000);
    http = supertest(registry.url);
  });

  // A test that failed midway must not leave the next one without S3.
  afterEach(async () => {
    await s3?.start();
  });

  afterAll(async () => {
    await registry?.stop();
    await database?.drop();
    await s3?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 503 storage_unavailable with Retry-After while S3 is down, is not ready, and recovers without a restart with every acknowledged upload intact', async () => {
    const scenario = await beginOutageScenario(registry.url, 'outage-s3', 'storage_unavailable');
    const { version, load } = scenario;
    await s3.stop();

    await eventually(async () => (await http.get('/readyz')).status === 503, 'readiness reports the store down', 10_000);
    const ready = await http.get('/readyz');
    expectProblem(ready, 503, 'storage_unavailable');
    const whileDown = {
      download: await http.get(`${version}/files/before.bin`).set(admin),
      head: await http.head(`${version}/files/before.bin`).set(admin),
      part: await sendPendingPart(scenario),
      form: await http.post(`${version}/files`).set(admin).attach('file', randomBytes(1024), { filename: 'during.bin' }),
      gc: await http.post('/api/v1/admin/gc').set(admin),
    };
    // A HEAD answer has no body to carry the problem.
    expectAllUnavailable(whileDown, 'storage_unavailable', ['head']);
    expect(JSON.stringify(whileDown.download.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|minio/i);
    await eventually(() => load.count(503) >= 3, 'the load has met the outage', 10_000);

    await s3.start();
    await finishOutageScenario(scenario, 20_000);
    expect(registry.child.exitCode).toBeNull();
  });

  it('creates its bucket again when S3 comes back empty, and answers HEAD and GET of a lost file alike', async () => {
    const version = `${await draft(registry.url, 'outage-empty')}/1`;
    const lost = randomBytes(16 * 1024);
    await http.post(`${version}/files`).set(admin).attach('file', lost, { filename: 'lost.bin' }).expect(201);

    await s3.stop();
    await s3.deleteBucket(BUCKET);
    await s3.start();

    // The first request after the loss meets NoSuchBucket; the registry makes the bucket again.
    const fresh = randomBytes(16 * 1024);
    await http.post(`${version}/files`).set(admin).attach('file', fresh, { filename: 'fresh.bin' }).expect(201);
    expect(sha256((await binary(http.get(`${version}/files/fresh.bin`).set(admin)).expect(200)).body as Buffer)).toBe(sha256(fresh));

    const get = await http.get(`${version}/files/lost.bin`).set(admin);
    const head = await http.head(`${version}/files/lost.bin`).set(admin);
    expect({ get: get.status, head: head.status }).toEqual({ get: 500, head: 500 });
    expectProblem(get, 500, 'file_content_missing');
    await http.get('/readyz').expect(200);
    expect(registry.child.exitCode).toBeNull();
  });
});
