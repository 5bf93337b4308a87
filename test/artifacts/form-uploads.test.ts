import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { ARTIFACT_STORE, ArtifactStore } from '../../src/storage/artifact-store';
import { binary, draft, MIB, sha256 } from '../support/artifacts';
import { expectProblem } from '../support/fixtures';
import { CUT_SHORT_FORM, filePart, formBody, postForm, startForm, within } from '../support/forms';
import { externalS3, S3Target, startS3rver } from '../support/s3';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

// Real S3 rules (Ceph RGW) too, when TEST_S3_ENDPOINT / TEST_S3_ACCESS_KEY / TEST_S3_SECRET_KEY point at one.
const DRIVERS = externalS3() ? (['fs', 's3', 'external-s3'] as const) : (['fs', 's3'] as const);

describe.each(DRIVERS)('form uploads on the %s driver', (driver) => {
  let registry: TestRegistry;
  let s3: S3Target | undefined;
  let store: ArtifactStore;
  /** Every store write the registry started, to wait for the late ones before looking. */
  let puts: { key: string; done: Promise<unknown> }[] = [];
  let putStarted: () => void = () => undefined;

  beforeAll(async () => {
    s3 = driver === 's3' ? await startS3rver() : undefined;
    const external = driver === 'external-s3' ? externalS3()! : undefined;
    const bucket = external ? `wharf-test-${randomBytes(4).toString('hex')}` : 'wharf-test';
    const target = s3 ?? external;
    registry = await startTestRegistry({
      GC_INTERVAL_SECONDS: '0',
      MAX_FILE_SIZE: String(20 * MIB),
      ...(target ? { S3_ENDPOINT: target.endpoint, S3_ACCESS_KEY: target.accessKey, S3_SECRET_KEY: target.secretKey, S3_BUCKET: bucket } : {}),
    });
    store = registry.registry.app.get(ARTIFACT_STORE);
    const put = store.put.bind(store);
    jest.spyOn(store, 'put').mockImplementation((key: string, body: Readable) => {
      const done = put(key, body);
      puts.push({ key, done: done.catch(() => undefined) });
      putStarted();
      return done;
    });
  }, 180_000);
  beforeEach(() => {
    puts = [];
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await registry?.close();
    await s3?.close();
  });

  async function projectId(name: string): Promise<string> {
    const [{ id }]: { id: string }[] = await registry.registry.dataSource.query(`SELECT id FROM projects WHERE name = $1`, [name]);
    return id;
  }

  /**
   * Everything a form upload could leave behind in the project: file rows, blob rows, the
   * quota's count, objects and multipart uploads in the store, the fs driver's temp files.
   * Taken once every store write the registry started has ended, so a write that lands after
   * the answer is seen too.
   */
  async function leftovers(project: string) {
    await within(Promise.all(puts.map((put) => put.done)), 15_000, 'the end of every store write');
    const id = await projectId(project);
    const query = (sql: string) => registry.registry.dataSource.query(sql, [id]);
    return {
      files: await query(`SELECT path, sha256 FROM version_files WHERE project_id = $1 ORDER BY path`),
      blobs: await query(`SELECT sha256, storage_key FROM blobs WHERE project_id = $1 ORDER BY sha256`),
      usedBytes: (await registry.http.get(`/api/v1/projects/${project}/storage`).set(bearer(ADMIN_TOKEN)).expect(200)).body.usedBytes,
      objects: (await collect(store.list(`blobs/${id}/`))).map((object) => object.key).sort(),
      multipart: await collect(store.listMultipart(`blobs/${id}/`)),
      temporary: driver === 'fs' ? await readdir(path.join(registry.dataDir, 'blobs', 'tmp')) : [],
    };
  }

  it('answers 400 problem+json to a form that ends without its closing boundary, and stores nothing', async () => {
    const versions = await draft(registry.url, 'p-cut');
    const before = await leftovers('p-cut');
    const answer = await postForm(`${registry.url}${versions}/1/files`, CUT_SHORT_FORM);
    expectProblem(answer as never, 400, 'validation_failed');
    expect(answer.body.detail).toMatch(/closing boundary/);
    expect(await leftovers('p-cut')).toEqual(before);
    // A whole form right after it goes through.
    const good = await postForm(`${registry.url}${versions}/1/files`, formBody([{ name: 't.bin', data: 'XXXX' }]));
    expect(good.status).toBe(201);
  });

  it('stores nothing of a form whose client goes away in the middle of a file, and goes on serving', async () => {
    const versions = await draft(registry.url, 'p-abort');
    const before = await leftovers('p-abort');
    // Aborted once the second file is on its way to the store.
    const started = new Promise<void>((resolve) => (putStarted = () => puts.length === 2 && resolve()));
    const head = Buffer.concat([filePart('done.bin', randomBytes(1000)), filePart('half.bin', randomBytes(3 * MIB)).subarray(0, 2 * MIB)]);
    const upload = startForm(`${registry.url}${versions}/1/files`, head.length + 10 * MIB, head);
    await started;
    await upload.abort();
    expect(await leftovers('p-abort')).toEqual(before);
    const good = await postForm(`${registry.url}${versions}/1/files`, formBody([{ name: 'done.bin', data: 'ok' }]));
    expect(good.status).toBe(201);
  });

  it('refuses a form of more than 1,000 files and keeps none of the first 1,000', async () => {
    const versions = await draft(registry.url, 'p-many');
    const before = await leftovers('p-many');
    const files = Array.from({ length: 1001 }, (_, index) => ({ name: `f/${index}.txt`, data: `file ${index}\n` }));
    const answer = await postForm(`${registry.url}${versions}/1/files`, formBody(files));
    expectProblem(answer as never, 400, 'validation_failed');
    expect(answer.body.detail).toMatch(/1000 files/);
    expect(puts.length).toBe(1000);
    expect(await leftovers('p-many')).toEqual(before);
    // A thousand store writes take a while on S3 on a busy machine.
  }, 300_000);

  it('refuses a form whose good files are followed by a bad path, keeping none of the good ones and leaving the quota as it was', async () => {
    const versions = await draft(registry.url, 'p-badpath');
    await postForm(`${registry.url}${versions}/1/files`, formBody([{ name: 'kept.bin', data: 'already here' }])).then((answer) => expect(answer.status).toBe(201));
    const before = await leftovers('p-badpath');
    expect(before.usedBytes).toBe('already here'.length);
    const answer = await postForm(
      `${registry.url}${versions}/1/files`,
      formBody([
        { name: 'good/one.bin', data: randomBytes(2 * MIB) },
        { name: 'good/two.bin', data: randomBytes(1000) },
        { name: '../evil.txt', data: 'x' },
      ]),
    );
    expectProblem(answer as never, 400, 'invalid_path');
    expect(puts.length).toBe(3);
    expect(await leftovers('p-badpath')).toEqual(before);
    const list = await registry.http.get(`${versions}/1/files`).set(bearer(ADMIN_TOKEN)).expect(200);
    expect(list.body.items.map((item: { path: string }) => item.path)).toEqual(['kept.bin']);
  });

  it('refuses a form that names one path twice before storing the second copy', async () => {
    const versions = await draft(registry.url, 'p-twice');
    const before = await leftovers('p-twice');
    const answer = await postForm(`${registry.url}${versions}/1/files`, formBody([{ name: 'a.bin', data: 'one' }, { name: 'a.bin', data: 'two' }]));
    expectProblem(answer as never, 400, 'validation_failed');
    expect(puts.length).toBe(1);
    expect(await leftovers('p-twice')).toEqual(before);
  });

  it('keeps a non-ASCII filename as sent in UTF-8 and serves the file back by that path', async () => {
    const versions = await draft(registry.url, 'p-utf8');
    const data = Buffer.from('Größe\n');
    const answer = await postForm(`${registry.url}${versions}/1/files`, formBody([{ name: 'modèle/größe.txt', data }]));
    expect([answer.status, answer.body]).toEqual([201, [{ path: 'modèle/größe.txt', size: data.length, sha256: sha256(data) }]]);
    const list = await registry.http.get(`${versions}/1/files`).set(bearer(ADMIN_TOKEN)).expect(200);
    expect(list.body.items.map((item: { path: string }) => item.path)).toEqual(['modèle/größe.txt']);
    const served = await binary(registry.http.get(`${versions}/1/files/${encodeURI('modèle/größe.txt')}`).set(bearer(ADMIN_TOKEN))).expect(200);
    expect((served.body as Buffer).equals(data)).toBe(true);
  });
});
