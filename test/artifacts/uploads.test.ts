import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import * as path from 'node:path';
import { manifestDigest } from '../../src/versions/manifest';
import { ARTIFACT_STORE, ArtifactStore, MIN_PART_SIZE } from '../../src/storage/artifact-store';
import { GcService } from '../../src/gc/gc.service';
import { binary, createUpload, draft, MIB, partOf, putPart, sha256, shuffled, uploadFile } from '../support/artifacts';
import { externalS3, S3Target, startS3rver } from '../support/s3';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

/** form-data keeps directories in a filename only when it is given as `filepath`. */
const formPath = (filepath: string) => ({ filepath }) as unknown as { filename: string };

/** A PUT without Content-Length (chunked), which supertest cannot send. */
function chunkedPut(url: string, body: Buffer): Promise<{ status: number; code: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { ...bearer(ADMIN_TOKEN), 'Content-Type': 'application/octet-stream' } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(text) as { code: string }).code }));
    });
    req.on('error', reject);
    req.write(body);
    req.end();
  });
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

// Real S3 rules (Ceph RGW) too, when TEST_S3_ENDPOINT / TEST_S3_ACCESS_KEY / TEST_S3_SECRET_KEY point at one.
const DRIVERS = externalS3() ? (['fs', 's3', 'external-s3'] as const) : (['fs', 's3'] as const);

describe.each(DRIVERS)('uploads and downloads on the %s driver', (driver) => {
  let registry: TestRegistry;
  let s3: S3Target | undefined;
  let store: ArtifactStore;
  let gc: GcService;

  beforeAll(async () => {
    s3 = driver === 's3' ? await startS3rver() : undefined;
    const external = driver === 'external-s3' ? externalS3()! : undefined;
    const bucket = external ? `wharf-test-${randomBytes(4).toString('hex')}` : 'wharf-test';
    const target = s3 ?? external;
    registry = await startTestRegistry({
      UPLOAD_PART_SIZE: String(5 * MIB),
      GC_GRACE_SECONDS: '0',
      GC_INTERVAL_SECONDS: '0',
      MAX_FILE_SIZE: String(20 * MIB),
      ...(target ? { S3_ENDPOINT: target.endpoint, S3_ACCESS_KEY: target.accessKey, S3_SECRET_KEY: target.secretKey, S3_BUCKET: bucket } : {}),
    });
    store = registry.registry.app.get(ARTIFACT_STORE);
    gc = registry.registry.app.get(GcService);
  });
  afterAll(async () => {
    await registry?.close();
    await s3?.close();
  });

  it('assembles parts sent in parallel and out of order, serves the file and commits with a manifest over the real files', async () => {
    const versions = await draft(registry.url, 'p-basic');
    const big = randomBytes(12 * MIB + 4321);
    const small = Buffer.from('{"labels": ["cat", "dog"]}\n');
    const upload = await createUpload(registry.url, `${versions}/1`, { path: 'weights/model.bin', data: big });
    expect(upload).toMatchObject({ state: 'open', partSize: 5 * MIB, partCount: 3, deduplicated: false });
    const order = shuffled(3, 3);
    // Parts 1 and 3 carry their digest, part 2 does not.
    await Promise.all(
      order.map((number) => {
        const part = partOf(big, upload, number);
        return putPart(registry.url, upload.id, number, part, number === 2 ? undefined : sha256(part)).expect(200);
      }),
    );
    const status = await registry.http.get(`/api/v1/uploads/${upload.id}`).set(bearer(ADMIN_TOKEN)).expect(200);
    expect(status.body.parts.map((part: { number: number }) => part.number)).toEqual([1, 2, 3]);
    expect(status.body.parts.map((part: { sha256: string | null }) => part.sha256)).toEqual([sha256(partOf(big, upload, 1)), null, sha256(partOf(big, upload, 3))]);

    await registry.http.get(`${versions}/1/files/weights/model.bin`).set(bearer(ADMIN_TOKEN)).expect(404);
    const done = await registry.http.post(`/api/v1/uploads/${upload.id}/complete`).set(bearer(ADMIN_TOKEN)).expect(200);
    expect(done.body.state).toBe('complete');
    await registry.http.post(`/api/v1/uploads/${upload.id}/complete`).set(bearer(ADMIN_TOKEN)).expect(200);
    await uploadFile(registry.url, `${versions}/1`, 'labels.json', small);

    const download = await binary(registry.http.get(`${versions}/1/files/weights/model.bin`).set(bearer(ADMIN_TOKEN))).expect(200);
    expect(sha256(download.body as Buffer)).toBe(sha256(big));
    expect(download.headers.etag).toBe(`"${sha256(big)}"`);
    expect(download.headers['content-length']).toBe(String(big.length));

    const commit = await registry.http.post(`${versions}/1/commit`).set(bearer(ADMIN_TOKEN)).expect(200);
    const files = [
      { path: 'labels.json', size: small.length, sha256: sha256(small) },
      { path: 'weights/model.bin', size: big.length, sha256: sha256(big) },
    ];
    expect(commit.body).toMatchObject({ state: 'ready', manifestDigest: manifestDigest(files) });
    const list = await registry.http.get(`${versions}/1/files`).set(bearer(ADMIN_TOKEN)).expect(200);
    expect(list.body).toMatchObject({ state: 'ready', manifestDigest: manifestDigest(files), items: files });
  });

  it('answers ranges, 416 past the end, HEAD and If-None-Match', async () => {
    const versions = await draft(registry.url, 'p-range');
    const data = randomBytes(1000);
    await uploadFile(registry.url, `${versions}/1`, 'a.bin', data);
    const url = `${versions}/1/files/a.bin`;
    const ranged = await binary(registry.http.get(url).set(bearer(ADMIN_TOKEN)).set('Range', 'bytes=10-19')).expect(206);
    expect((ranged.body as Buffer).equals(data.subarray(10, 20))).toBe(true);
    expect(ranged.headers['content-range']).toBe('bytes 10-19/1000');
    const suffix = await binary(registry.http.get(url).set(bearer(ADMIN_TOKEN)).set('Range', 'bytes=-5')).expect(206);
    expect((suffix.body as Buffer).equals(data.subarray(995))).toBe(true);
    const past = await registry.http.get(url).set(bearer(ADMIN_TOKEN)).set('Range', 'bytes=1000-').expect(416);
    expect(past.headers['content-range']).toBe('bytes */1000');
    const head = await registry.http.head(url).set(bearer(ADMIN_TOKEN)).expect(200);
    expect(head.headers['content-length']).toBe('1000');
    expect(head.headers['accept-ranges']).toBe('bytes');
    await registry.http.get(url).set(bearer(ADMIN_TOKEN)).set('If-None-Match', `"${sha256(data)}"`).expect(304);
    await registry.http.get(`${versions}/1/files/missing.bin`).set(bearer(ADMIN_TOKEN)).expect(404);
  });

  it('attaches a file the project already holds with no bytes sent, but never across projects', async () => {
    const versions = await draft(registry.url, 'p-dedupe');
    const data = randomBytes(6 * MIB);
    await uploadFile(registry.url, `${versions}/1`, 'a.bin', data);
    const again = await createUpload(registry.url, `${versions}/1`, { path: 'copy/a.bin', data });
    expect(again).toMatchObject({ state: 'complete', deduplicated: true });
    const copy = await binary(registry.http.get(`${versions}/1/files/copy/a.bin`).set(bearer(ADMIN_TOKEN))).expect(200);
    expect(sha256(copy.body as Buffer)).toBe(sha256(data));
    const other = await draft(registry.url, 'p-dedupe-other');
    expect(await createUpload(registry.url, `${other}/1`, { path: 'a.bin', data })).toMatchObject({ state: 'open', deduplicated: false });
  });

  it('answers one session to concurrent creations of the same file, and 409 to another content at that path', async () => {
    const versions = await draft(registry.url, 'p-same');
    const data = randomBytes(6 * MIB);
    const created = await Promise.all(Array.from({ length: 8 }, () => createUpload(registry.url, `${versions}/1`, { path: 'a.bin', data })));
    expect(new Set(created.map((upload) => upload.id)).size).toBe(1);
    const other = await registry.http.post(`${versions}/1/uploads`).set(bearer(ADMIN_TOKEN)).send({ path: 'a.bin', size: 10, sha256: sha256(randomBytes(10)) });
    expect([other.status, other.body.code]).toEqual([409, 'upload_conflict']);
  });

  it('refuses a part whose sha256 does not match and does not keep it', async () => {
    const versions = await draft(registry.url, 'p-partsha');
    const data = randomBytes(6 * MIB);
    const upload = await createUpload(registry.url, `${versions}/1`, { path: 'a.bin', data });
    const part = partOf(data, upload, 1);
    const wrong = await putPart(registry.url, upload.id, 1, part, sha256(Buffer.from('other'))).expect(400);
    expect(wrong.body.code).toBe('part_digest_mismatch');
    const status = await registry.http.get(`/api/v1/uploads/${upload.id}`).set(bearer(ADMIN_TOKEN)).expect(200);
    expect(status.body.parts).toEqual([]);
    const incomplete = await registry.http.post(`/api/v1/uploads/${upload.id}/complete`).set(bearer(ADMIN_TOKEN)).expect(409);
    expect(incomplete.body).toMatchObject({ code: 'upload_incomplete', missingParts: [1, 2] });
    const short = await putPart(registry.url, upload.id, 1, part.subarray(1)).expect(400);
    expect(short.body.code).toBe('part_size_mismatch');
    await putPart(registry.url, upload.id, 3, part).expect(400);
    const json = await registry.http.put(`/api/v1/uploads/${upload.id}/parts/2`).set(bearer(ADMIN_TOKEN)).send({ not: 'bytes' });
    expect([json.status, json.body.code]).toEqual([415, 'unsupported_media_type']);
    expect(await chunkedPut(`${registry.url}/api/v1/uploads/${upload.id}/parts/2`, Buffer.alloc(10))).toEqual({ status: 411, code: 'length_required' });
  });

  it('refuses a file whose sha256 does not match: nothing becomes visible and GC leaves nothing behind', async () => {
    const versions = await draft(registry.url, 'p-filesha');
    const data = randomBytes(6 * MIB);
    const claimed = sha256(randomBytes(10));
    const upload = await createUpload(registry.url, `${versions}/1`, { path: 'a.bin', data, sha256: claimed });
    for (const number of [2, 1]) await putPart(registry.url, upload.id, number, partOf(data, upload, number)).expect(200);
    const refused = await registry.http.post(`/api/v1/uploads/${upload.id}/complete`).set(bearer(ADMIN_TOKEN)).expect(400);
    expect(refused.body.code).toBe('file_digest_mismatch');
    const status = await registry.http.get(`/api/v1/uploads/${upload.id}`).set(bearer(ADMIN_TOKEN)).expect(200);
    expect(status.body.state).toBe('failed');
    await registry.http.get(`${versions}/1/files/a.bin`).set(bearer(ADMIN_TOKEN)).expect(404);
    expect((await registry.http.get(`${versions}/1/files`).set(bearer(ADMIN_TOKEN)).expect(200)).body.items).toEqual([]);
    const empty = await registry.http.post(`${versions}/1/commit`).set(bearer(ADMIN_TOKEN)).expect(409);
    expect(empty.body.code).toBe('version_empty');
    await gc.run();
    const [{ id: projectId }] = await registry.registry.dataSource.query(`SELECT id FROM projects WHERE name = 'p-filesha'`);
    expect(await collect(store.list(`blobs/${projectId}/`))).toEqual([]);
    expect(await collect(store.listMultipart(`blobs/${projectId}/`))).toEqual([]);
    expect(await registry.registry.dataSource.query(`SELECT * FROM blobs WHERE project_id = $1`, [projectId])).toEqual([]);
  });

  it('refuses path traversal and malformed paths, storing nothing', async () => {
    const versions = await draft(registry.url, 'p-paths');
    const before = await registry.count('uploads');
    const upload = (path: string) =>
      registry.http.post(`${versions}/1/uploads`).set(bearer(ADMIN_TOKEN)).send({ path, size: 1, sha256: sha256(Buffer.from('x')) });
    for (const path of ['../x', 'a/../../x', '/etc/passwd', 'a\\b', 'a//b', './a', 'a/', 'C:/x', 'x'.repeat(2000), '']) {
      const response = await upload(path);
      expect([path, response.status, response.body.code]).toEqual([path, 400, 'invalid_path']);
    }
    // A NUL is refused before any field's own rule, by the rule every input shares (safe-input.ts).
    const nul = await upload('a\u0000b');
    expect([nul.status, nul.body.code, nul.body.errors?.[0]?.field]).toEqual([400, 'validation_failed', 'path']);
    const traversal = await registry.http.get(`${versions}/1/files/..%2F..%2Fetc%2Fpasswd`).set(bearer(ADMIN_TOKEN));
    expect(traversal.status).toBe(400);
    expect(await registry.count('uploads')).toBe(before);
  });

  it('holds a commit back while uploads are open, and freezes the files of a committed version', async () => {
    const versions = await draft(registry.url, 'p-commit');
    const data = randomBytes(100);
    await uploadFile(registry.url, `${versions}/1`, 'done.bin', data);
    const open = await createUpload(registry.url, `${versions}/1`, { path: 'open.bin', data: randomBytes(10) });
    const pending = await registry.http.post(`${versions}/1/commit`).set(bearer(ADMIN_TOKEN)).expect(409);
    expect(pending.body.code).toBe('uploads_pending');
    await registry.http.delete(`/api/v1/uploads/${open.id}`).set(bearer(ADMIN_TOKEN)).expect(204);
    await registry.http.put(`/api/v1/uploads/${open.id}/parts/1`).set(bearer(ADMIN_TOKEN)).send(Buffer.alloc(10)).expect(409);
    await registry.http.post(`${versions}/1/commit`).set(bearer(ADMIN_TOKEN)).expect(200);
    const late = await registry.http.post(`${versions}/1/uploads`).set(bearer(ADMIN_TOKEN)).send({ path: 'late.bin', size: 1, sha256: sha256(Buffer.from('x')) });
    expect([late.status, late.body.code]).toEqual([409, 'version_immutable']);
    const form = await registry.http.post(`${versions}/1/files`).set(bearer(ADMIN_TOKEN)).attach('file', Buffer.from('x'), 'late.txt');
    expect([form.status, form.body.code]).toEqual([409, 'version_immutable']);
    await expect(
      registry.registry.dataSource.query(`UPDATE version_files SET size = size + 1 WHERE path = 'done.bin'`),
    ).rejects.toThrow(/cannot change/);
  });

  it('takes several files in one multipart/form-data request, streamed and hashed', async () => {
    const versions = await draft(registry.url, 'p-form');
    const one = randomBytes(7 * MIB);
    const two = Buffer.from('hello\n');
    const response = await registry.http
      .post(`${versions}/1/files`)
      .set(bearer(ADMIN_TOKEN))
      .attach('file', one, formPath('weights/one.bin'))
      .attach('file', two, 'two.txt')
      .expect(201);
    expect(response.body).toEqual([
      { path: 'weights/one.bin', size: one.length, sha256: sha256(one) },
      { path: 'two.txt', size: two.length, sha256: sha256(two) },
    ]);
    const download = await binary(registry.http.get(`${versions}/1/files/weights/one.bin`).set(bearer(ADMIN_TOKEN))).expect(200);
    expect(sha256(download.body as Buffer)).toBe(sha256(one));
    const bad = await registry.http.post(`${versions}/1/files`).set(bearer(ADMIN_TOKEN)).attach('file', two, formPath('../evil.txt'));
    expect([bad.status, bad.body.code]).toEqual([400, 'invalid_path']);
    const notForm = await registry.http.post(`${versions}/1/files`).set(bearer(ADMIN_TOKEN)).set('Content-Type', 'application/octet-stream').send(two);
    expect(notForm.status).toBe(415);
    expect((await registry.http.get(`${versions}/1/files`).set(bearer(ADMIN_TOKEN))).body.items).toHaveLength(2);
  });

  it('enforces the maximum file size and the project quota', async () => {
    const versions = await draft(registry.url, 'p-limits');
    const huge = await registry.http.post(`${versions}/1/uploads`).set(bearer(ADMIN_TOKEN)).send({ path: 'a', size: 20 * MIB + 1, sha256: 'a'.repeat(64) });
    expect([huge.status, huge.body.code]).toEqual([413, 'file_too_large']);
    const [{ id: projectId }] = await registry.registry.dataSource.query(`SELECT id FROM projects WHERE name = 'p-limits'`);
    const hugeForm = await registry.http.post(`${versions}/1/files`).set(bearer(ADMIN_TOKEN)).attach('file', Buffer.alloc(20 * MIB + 1), 'big.bin');
    expect([hugeForm.status, hugeForm.body.code]).toEqual([413, 'file_too_large']);
    expect(await collect(store.list(`blobs/${projectId}/`))).toEqual([]);
    await registry.http.put('/api/v1/projects/p-limits/quota').set(bearer(ADMIN_TOKEN)).send({ storage: 150 }).expect(200);
    const quota = await registry.http.get('/api/v1/projects/p-limits/storage').set(bearer(ADMIN_TOKEN)).expect(200);
    expect(quota.body).toMatchObject({ quotaBytes: 150, quotaSource: 'project', usedBytes: 0 });
    await uploadFile(registry.url, `${versions}/1`, 'a', randomBytes(100));
    const pendingData = randomBytes(30);
    const pending = await createUpload(registry.url, `${versions}/1`, { path: 'pending', data: pendingData });
    const usage = await registry.http.get('/api/v1/projects/p-limits/storage').set(bearer(ADMIN_TOKEN)).expect(200);
    expect(usage.body).toMatchObject({ quotaBytes: 150, usedBytes: 100, pendingUploadBytes: 30 });
    const over = await registry.http.post(`${versions}/1/uploads`).set(bearer(ADMIN_TOKEN)).send({ path: 'b', size: 21, sha256: 'b'.repeat(64) });
    expect([over.status, over.body.code]).toEqual([409, 'storage_quota_exceeded']);
    const form = await registry.http.post(`${versions}/1/files`).set(bearer(ADMIN_TOKEN)).attach('file', randomBytes(60), 'c');
    // The form check counts stored blobs only (100 + 60 > 150), not the pending reservation.
    expect([form.status, form.body.code]).toEqual([409, 'storage_quota_exceeded']);
    expect((await registry.http.get(`${versions}/1/files`).set(bearer(ADMIN_TOKEN))).body.items).toHaveLength(1);
    // The quota is checked again at complete: lowered meanwhile, the upload is refused.
    await putPart(registry.url, pending.id, 1, pendingData).expect(200);
    await registry.http.put('/api/v1/projects/p-limits/quota').set(bearer(ADMIN_TOKEN)).send({ storage: '110' }).expect(200);
    const complete = await registry.http.post(`/api/v1/uploads/${pending.id}/complete`).set(bearer(ADMIN_TOKEN)).expect(409);
    expect(complete.body.code).toBe('storage_quota_exceeded');
    await registry.http.get(`${versions}/1/files/pending`).set(bearer(ADMIN_TOKEN)).expect(404);
    const refusedQuota = await registry.http.put('/api/v1/projects/p-limits/quota').set(bearer(ADMIN_TOKEN)).send({ storage: -1 });
    expect(refusedQuota.status).toBe(400);
    expect((await registry.http.get('/api/v1/projects/p-limits/storage').set(bearer(ADMIN_TOKEN))).body.quotaBytes).toBe(110);
  });

  it('hides uploads from callers without a role in their project', async () => {
    const versions = await draft(registry.url, 'p-access');
    const upload = await createUpload(registry.url, `${versions}/1`, { path: 'a', data: randomBytes(10) });
    await registry.http.post('/api/v1/projects').set(bearer(ADMIN_TOKEN)).send({ name: 'p-access-other' }).expect(201);
    const token = await registry.http.post('/api/v1/tokens').set(bearer(ADMIN_TOKEN)).send({ name: 't', principal: 'mallory' }).expect(201);
    await registry.http.put('/api/v1/projects/p-access-other/members/mallory').set(bearer(ADMIN_TOKEN)).send({ role: 'admin' }).expect((r) => expect(r.status).toBeLessThan(300));
    const stranger = bearer(token.body.token);
    for (const request of [
      registry.http.get(`/api/v1/uploads/${upload.id}`),
      registry.http.put(`/api/v1/uploads/${upload.id}/parts/1`).send(Buffer.alloc(10)),
      registry.http.post(`/api/v1/uploads/${upload.id}/complete`),
      registry.http.delete(`/api/v1/uploads/${upload.id}`),
    ]) {
      const response = await request.set(stranger);
      expect([response.status, response.body.code]).toEqual([404, 'upload_not_found']);
    }
    await registry.http.put('/api/v1/projects/p-access/members/mallory').set(bearer(ADMIN_TOKEN)).send({ role: 'viewer' }).expect((r) => expect(r.status).toBeLessThan(300));
    await registry.http.get(`/api/v1/uploads/${upload.id}`).set(stranger).expect(200);
    const put = await registry.http.put(`/api/v1/uploads/${upload.id}/parts/1`).set(stranger).send(Buffer.alloc(10));
    expect([put.status, put.body.code]).toEqual([403, 'forbidden']);
    await registry.http.get('/api/v1/uploads/not-a-uuid').set(bearer(ADMIN_TOKEN)).expect(404);
  });

  it('expires idle uploads and aborts their multipart uploads in the store', async () => {
    const versions = await draft(registry.url, 'p-expire');
    const data = randomBytes(6 * MIB);
    const upload = await createUpload(registry.url, `${versions}/1`, { path: 'a', data });
    await putPart(registry.url, upload.id, 1, partOf(data, upload, 1)).expect(200);
    const [{ id: projectId }] = await registry.registry.dataSource.query(`SELECT id FROM projects WHERE name = 'p-expire'`);
    expect(await collect(store.listMultipart(`blobs/${projectId}/`))).toHaveLength(1);
    await registry.registry.dataSource.query(`UPDATE uploads SET expires_at = now() - interval '1 second' WHERE id = $1`, [upload.id]);
    const report = await gc.run();
    expect(report.expiredUploads).toBeGreaterThanOrEqual(1);
    expect(await collect(store.listMultipart(`blobs/${projectId}/`))).toEqual([]);
    await putPart(registry.url, upload.id, 2, partOf(data, upload, 2)).expect(409);
  });

  it('deletes blobs nothing references once their committed version is deleted', async () => {
    const versions = await draft(registry.url, 'p-gc');
    await uploadFile(registry.url, `${versions}/1`, 'a', randomBytes(100));
    const [{ id: projectId }] = await registry.registry.dataSource.query(`SELECT id FROM projects WHERE name = 'p-gc'`);
    expect(await collect(store.list(`blobs/${projectId}/`))).toHaveLength(1);
    await gc.run();
    expect(await collect(store.list(`blobs/${projectId}/`))).toHaveLength(1);
    await registry.http.post(`${versions}/1/commit`).set(bearer(ADMIN_TOKEN)).expect(200);
    await registry.http.delete(`${versions}/1`).set(bearer(ADMIN_TOKEN)).expect(204);
    await gc.run();
    expect(await collect(store.list(`blobs/${projectId}/`))).toEqual([]);
    const [{ used_bytes }] = await registry.registry.dataSource.query(`SELECT used_bytes FROM project_storage WHERE project_id = $1`, [projectId]);
    expect(Number(used_bytes)).toBe(0);
  });

  if (driver === 's3') {
    it('completes without downloading the object again: the sha256 comes from local copies of the parts, deleted once hashed', async () => {
      const versions = await draft(registry.url, 'p-spool');
      const data = randomBytes(12 * MIB + 99);
      const upload = await createUpload(registry.url, `${versions}/1`, { path: 'w.bin', data });
      for (const number of shuffled(3, 7)) await putPart(registry.url, upload.id, number, partOf(data, upload, number)).expect(200);
      const before = s3!.requests.length;
      await registry.http.post(`/api/v1/uploads/${upload.id}/complete`).set(bearer(ADMIN_TOKEN)).expect(200);
      const duringComplete = s3!.requests.slice(before);
      expect(duringComplete.some((request) => request.method === 'POST' && request.url.includes('uploadId='))).toBe(true);
      expect(duringComplete.filter((request) => request.method === 'GET')).toEqual([]);
      expect(await readdir(path.join(registry.dataDir, 'spool', String(process.pid)))).toEqual([]);
      const served = await binary(registry.http.get(`${versions}/1/files/w.bin`).set(bearer(ADMIN_TOKEN))).expect(200);
      expect(sha256(served.body as Buffer)).toBe(sha256(data));
    });

    it('still refuses a file whose parts do not make the declared sha256, and keeps no copies', async () => {
      const versions = await draft(registry.url, 'p-spool-bad');
      const data = randomBytes(6 * MIB);
      const upload = await createUpload(registry.url, `${versions}/1`, { path: 'w.bin', data });
      const forged = Buffer.from(partOf(data, upload, 2));
      forged[0] ^= 0xff;
      await putPart(registry.url, upload.id, 2, forged).expect(200);
      await putPart(registry.url, upload.id, 1, partOf(data, upload, 1)).expect(200);
      const refused = await registry.http.post(`/api/v1/uploads/${upload.id}/complete`).set(bearer(ADMIN_TOKEN)).expect(400);
      expect(refused.body.code).toBe('file_digest_mismatch');
      await registry.http.get(`${versions}/1/files/w.bin`).set(bearer(ADMIN_TOKEN)).expect(404);
      expect(await readdir(path.join(registry.dataDir, 'spool', String(process.pid)))).toEqual([]);
    });

    it('never sends S3 a part under 5 MiB except the last one of an upload', async () => {
      const versions = await draft(registry.url, 'p-s3rules');
      await uploadFile(registry.url, `${versions}/1`, 'x', randomBytes(17 * MIB + 3));
      const byUpload = new Map<string, { partNumber: number; bytes: number }[]>();
      for (const part of s3!.partRequests) {
        const id = new URL(part.url, 'http://x').searchParams.get('uploadId')!;
        byUpload.set(id, [...(byUpload.get(id) ?? []), part]);
      }
      expect(byUpload.size).toBeGreaterThan(3);
      for (const parts of byUpload.values()) {
        const last = Math.max(...parts.map((part) => part.partNumber));
        for (const part of parts.filter((candidate) => candidate.partNumber < last)) expect(part.bytes).toBeGreaterThanOrEqual(MIN_PART_SIZE);
      }
    });
  }
});
