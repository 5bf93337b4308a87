import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { ArtifactStore, MIN_PART_SIZE, StoreNotFoundError, StoreRuleError } from '../../src/storage/artifact-store';
import { FsArtifactStore } from '../../src/storage/fs.driver';
import { S3ArtifactStore } from '../../src/storage/s3.driver';
import { externalS3, startS3rver } from '../support/s3';

interface Driver {
  name: string;
  start(): Promise<{ store: ArtifactStore; close(): Promise<void> }>;
}

const drivers: Driver[] = [
  {
    name: 'fs',
    async start() {
      const dir = await mkdtemp(path.join(tmpdir(), 'wharf-fs-store-'));
      return { store: new FsArtifactStore(dir), close: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 's3 (s3rver)',
    async start() {
      const s3 = await startS3rver();
      const store = new S3ArtifactStore({ ...s3, bucket: 'contract', region: 'us-east-1' });
      return { store, close: () => s3.close() };
    },
  },
];
const ceph = externalS3();
if (ceph) {
  drivers.push({
    name: 's3 (TEST_S3_ENDPOINT)',
    async start() {
      const store = new S3ArtifactStore({ ...ceph, bucket: `wharf-contract-${randomUUID().slice(0, 8)}`, region: 'us-east-1' });
      return { store, close: async () => undefined };
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** A body that delivers `bytes` and then fails, like a part whose digest check failed. */
function failingBody(bytes: Buffer): Readable {
  return new Readable({
    read() {
      this.push(bytes);
      this.destroy(new Error('digest mismatch'));
    },
  });
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe.each(drivers)('ArtifactStore contract: $name', (driver) => {
  let store: ArtifactStore;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await driver.start());
    await store.init();
    await store.init(); // idempotent: a second replica starting
  });
  afterAll(async () => close?.());

  it('stores a stream and reads it back whole and by range', async () => {
    const data = randomBytes(300_000);
    expect(await store.put('t/put/a', Readable.from([data.subarray(0, 1000), data.subarray(1000)]))).toEqual({ size: data.length });
    expect((await readAll(await store.get('t/put/a'))).equals(data)).toBe(true);
    expect((await readAll(await store.get('t/put/a', { start: 10, end: 19 }))).equals(data.subarray(10, 20))).toBe(true);
    expect((await store.stat('t/put/a'))?.size).toBe(data.length);
  });

  it('stores an empty object', async () => {
    await store.put('t/put/empty', Readable.from([]));
    expect((await store.stat('t/put/empty'))?.size).toBe(0);
    expect((await readAll(await store.get('t/put/empty'))).length).toBe(0);
  });

  it('answers missing objects as missing and deletes idempotently', async () => {
    expect(await store.stat('t/missing')).toBeNull();
    await expect(store.get('t/missing')).rejects.toBeInstanceOf(StoreNotFoundError);
    await store.put('t/del', Readable.from([Buffer.from('x')]));
    await store.delete('t/del');
    await store.delete('t/del');
    expect(await store.stat('t/del')).toBeNull();
  });

  it('lists objects under a prefix', async () => {
    await store.put('t/list/one', Readable.from([Buffer.from('1')]));
    await store.put('t/list/sub/two', Readable.from([Buffer.from('22')]));
    await store.put('t/other', Readable.from([Buffer.from('3')]));
    const listed = await collect(store.list('t/list/'));
    expect(listed.map((item) => [item.key, item.size]).sort()).toEqual([
      ['t/list/one', 1],
      ['t/list/sub/two', 2],
    ]);
  });

  it('assembles a multipart upload from parts sent out of order, with a retried part replacing the first try', async () => {
    const data = randomBytes(2 * MIN_PART_SIZE + 12345);
    const parts = [
      { number: 1, offset: 0, size: MIN_PART_SIZE },
      { number: 2, offset: MIN_PART_SIZE, size: MIN_PART_SIZE },
      { number: 3, offset: 2 * MIN_PART_SIZE, size: 12345 },
    ];
    const uploadId = await store.createMultipart('t/mp/a');
    const body = (part: (typeof parts)[number]) => Readable.from([data.subarray(part.offset, part.offset + part.size)]);
    const etags = new Map<number, string>();
    // Part 2 first goes up with wrong bytes, then again with the right ones.
    await store.uploadPart('t/mp/a', uploadId, parts[1], Readable.from([randomBytes(MIN_PART_SIZE)]));
    for (const part of [parts[2], parts[1], parts[0]]) etags.set(part.number, (await store.uploadPart('t/mp/a', uploadId, part, body(part))).etag);
    expect((await collect(store.listMultipart('t/mp/'))).map((upload) => upload.uploadId)).toContain(uploadId);
    await store.completeMultipart('t/mp/a', uploadId, parts.map((part) => ({ number: part.number, size: part.size, etag: etags.get(part.number)! })));
    expect((await store.stat('t/mp/a'))?.size).toBe(data.length);
    expect(sha(await readAll(await store.get('t/mp/a')))).toBe(sha(data));
    const middle = await readAll(await store.get('t/mp/a', { start: MIN_PART_SIZE - 5, end: MIN_PART_SIZE + 4 }));
    expect(middle.equals(data.subarray(MIN_PART_SIZE - 5, MIN_PART_SIZE + 5))).toBe(true);
    expect((await collect(store.listMultipart('t/mp/'))).map((upload) => upload.uploadId)).not.toContain(uploadId);
  });

  it('keeps the earlier copy of a part when a retry of it fails midway', async () => {
    const data = randomBytes(MIN_PART_SIZE + 10);
    const first = { number: 1, offset: 0, size: MIN_PART_SIZE };
    const last = { number: 2, offset: MIN_PART_SIZE, size: 10 };
    const uploadId = await store.createMultipart('t/mp/b');
    const { etag } = await store.uploadPart('t/mp/b', uploadId, first, Readable.from([data.subarray(0, MIN_PART_SIZE)]));
    await expect(store.uploadPart('t/mp/b', uploadId, first, failingBody(randomBytes(MIN_PART_SIZE - 100)))).rejects.toThrow();
    const second = await store.uploadPart('t/mp/b', uploadId, last, Readable.from([data.subarray(MIN_PART_SIZE)]));
    await store.completeMultipart('t/mp/b', uploadId, [
      { number: 1, size: MIN_PART_SIZE, etag },
      { number: 2, size: 10, etag: second.etag },
    ]);
    expect(sha(await readAll(await store.get('t/mp/b')))).toBe(sha(data));
  });

  it('refuses to complete when a part other than the last is under 5 MiB, as real S3 does', async () => {
    const uploadId = await store.createMultipart('t/mp/small');
    const one = await store.uploadPart('t/mp/small', uploadId, { number: 1, offset: 0, size: 1024 }, Readable.from([randomBytes(1024)]));
    const two = await store.uploadPart('t/mp/small', uploadId, { number: 2, offset: 1024, size: 10 }, Readable.from([randomBytes(10)]));
    const complete = store.completeMultipart('t/mp/small', uploadId, [
      { number: 1, size: 1024, etag: one.etag },
      { number: 2, size: 10, etag: two.etag },
    ]);
    await expect(complete).rejects.toMatchObject({ code: 'EntityTooSmall' });
    await expect(complete).rejects.toBeInstanceOf(StoreRuleError);
    expect(await store.stat('t/mp/small')).toBeNull();
    await store.abortMultipart('t/mp/small', uploadId);
  });

  it('aborts a multipart upload so that nothing of it is left', async () => {
    const uploadId = await store.createMultipart('t/mp/abort');
    await store.uploadPart('t/mp/abort', uploadId, { number: 1, offset: 0, size: 100 }, Readable.from([randomBytes(100)]));
    await store.abortMultipart('t/mp/abort', uploadId);
    await store.abortMultipart('t/mp/abort', uploadId);
    expect((await collect(store.listMultipart('t/mp/abort'))).map((upload) => upload.uploadId)).not.toContain(uploadId);
    expect(await store.stat('t/mp/abort')).toBeNull();
  });

  it('refuses keys that could leave the store', async () => {
    for (const key of ['../x', 'a/../../x', '/abs', 'a//b', 'a\\b', '']) {
      await expect(store.put(key, Readable.from([Buffer.from('x')]))).rejects.toThrow(/invalid store key/);
    }
  });
});

describe('FsArtifactStore on its own', () => {
  it('sweeps temporary files a dead writer left behind, and only those older than the cutoff', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wharf-fs-tmp-'));
    try {
      const store = new FsArtifactStore(dir);
      await store.init();
      await store.put('t/kept', Readable.from([Buffer.from('object')]));
      // A form upload's write that never finished, an hour ago, and one in progress now.
      await writeFile(path.join(dir, 'tmp', 'stale'), 'half a file');
      const hourAgo = new Date(Date.now() - 3_600_000);
      await utimes(path.join(dir, 'tmp', 'stale'), hourAgo, hourAgo);
      await writeFile(path.join(dir, 'tmp', 'fresh'), 'being written');

      expect(await store.sweepTemporary(new Date(Date.now() - 60_000))).toBe(1);
      expect((await readdir(path.join(dir, 'tmp'))).sort()).toEqual(['fresh']);
      expect((await readAll(await store.get('t/kept'))).toString()).toBe('object');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
