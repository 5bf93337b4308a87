import { randomBytes } from 'node:crypto';
import { access, utimes, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { WHARF_CONFIG, WharfConfig } from '../../src/config/config';
import { GcService } from '../../src/gc/gc.service';
import { binary, draft, sha256, uploadFile } from '../support/artifacts';
import { TEST_DATABASE_URL } from '../support/test-database';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

describe('garbage collection racing an upload of the same digest', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startTestRegistry({ GC_GRACE_SECONDS: '0', GC_INTERVAL_SECONDS: '0' });
  });
  afterAll(async () => registry?.close());

  it('keeps a blob that a file came to reference while the collector was deleting it', async () => {
    const versions = await draft(registry.url, 'race');
    const data = randomBytes(1000);
    const digest = sha256(data);
    await uploadFile(registry.url, `${versions}/1`, 'a.bin', data);
    await registry.http.delete(`${versions}/1`).set(bearer(ADMIN_TOKEN)).expect(204);
    await registry.http.post(versions).set(bearer(ADMIN_TOKEN)).send({}).expect(201);
    const dataSource = registry.registry.dataSource;
    const [{ id: projectId }] = await dataSource.query(`SELECT id FROM projects WHERE name = 'race'`);
    const [{ id: versionId }] = await dataSource.query(`SELECT v.id FROM model_versions v JOIN models m ON m.id = v.model_id WHERE m.project_id = $1`, [projectId]);
    const gc = registry.registry.app.get(GcService);

    // What a dedupe attach does, held open: lock the blob for share, reference it.
    const attach = dataSource.createQueryRunner();
    await attach.connect();
    await attach.startTransaction();
    await attach.query(`SELECT 1 FROM blobs WHERE project_id = $1 AND sha256 = $2 FOR SHARE`, [projectId, digest]);
    await attach.query(`INSERT INTO version_files (version_id, path, project_id, sha256, size) VALUES ($1, 'b.bin', $2, $3, 1000)`, [versionId, projectId, digest]);
    // On real Postgres the collector now waits on the lock; embedded PGlite is one session, so
    // there the attach commits first and the collector runs after it.
    const collecting = TEST_DATABASE_URL ? gc.run() : undefined;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await attach.commitTransaction();
    await attach.release();
    const report = await (collecting ?? gc.run());

    expect(report.deletedBlobs).toBe(0);
    expect(await dataSource.query(`SELECT sha256 FROM blobs WHERE project_id = $1`, [projectId])).toEqual([{ sha256: digest }]);
    const download = await binary(registry.http.get(`${versions}/2/files/b.bin`).set(bearer(ADMIN_TOKEN))).expect(200);
    expect(sha256(download.body as Buffer)).toBe(digest);
  });

  it('removes the temporary file of a form upload whose writer died, on an admin-requested pass', async () => {
    const { dataDir } = registry.registry.app.get<WharfConfig>(WHARF_CONFIG);
    const stale = path.join(dataDir, 'blobs', 'tmp', 'from-a-crashed-form-upload');
    await writeFile(stale, 'half a file');
    const minuteAgo = new Date(Date.now() - 60_000);
    await utimes(stale, minuteAgo, minuteAgo);
    const report = await registry.http.post('/api/v1/admin/gc').set(bearer(ADMIN_TOKEN)).expect(200);
    expect(report.body.deletedTemporaryFiles).toBe(1);
    await expect(access(stale)).rejects.toThrow();
  });
});
