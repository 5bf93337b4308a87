import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileHashWorker } from './file-hash-worker';

const sha256 = (...parts: Buffer[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

describe('FileHashWorker', () => {
  let dir: string;
  const hasher = new FileHashWorker();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-hash-worker-'));
  });
  afterAll(async () => {
    await hasher.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes extents of several files in the order fed, several digests interleaved', async () => {
    // Larger than the worker's 4 MiB buffer, so one extent takes several reads.
    const first = randomBytes(9 * 1024 * 1024 + 3);
    const second = randomBytes(1024 * 1024);
    await writeFile(path.join(dir, 'first'), first);
    await writeFile(path.join(dir, 'second'), second);
    hasher.update('a', { file: path.join(dir, 'first'), start: 0, end: first.length - 1 });
    hasher.update('b', { file: path.join(dir, 'second'), start: 100, end: 199 });
    hasher.update('a', { file: path.join(dir, 'second'), start: 0, end: second.length - 1 });
    const [a, b] = await Promise.all([hasher.digest('a'), hasher.digest('b')]);
    expect(a).toEqual({ sha256: sha256(first, second), bytes: first.length + second.length });
    expect(b).toEqual({ sha256: sha256(second.subarray(100, 200)), bytes: 100 });
  });

  it('answers the empty digest for an id fed nothing, and forgets an id once answered', async () => {
    const empty = { sha256: sha256(), bytes: 0 };
    expect(await hasher.digest('nothing')).toEqual(empty);
    await writeFile(path.join(dir, 'small'), 'abc');
    hasher.update('once', { file: path.join(dir, 'small'), start: 0, end: 2 });
    expect((await hasher.digest('once')).bytes).toBe(3);
    expect(await hasher.digest('once')).toEqual(empty);
  });

  it('rejects the digest of a file shorter than promised or missing, and keeps working', async () => {
    await writeFile(path.join(dir, 'short'), 'abc');
    hasher.update('short', { file: path.join(dir, 'short'), start: 0, end: 9 });
    await expect(hasher.digest('short')).rejects.toThrow(/short read/);
    hasher.update('missing', { file: path.join(dir, 'no-such-file'), start: 0, end: 9 });
    await expect(hasher.digest('missing')).rejects.toThrow(/ENOENT/);
    hasher.update('after', { file: path.join(dir, 'short'), start: 0, end: 2 });
    expect(await hasher.digest('after')).toEqual({ sha256: sha256(Buffer.from('abc')), bytes: 3 });
  });

  it('drops a digest: what was fed before no longer counts', async () => {
    await writeFile(path.join(dir, 'dropped'), 'xyz');
    hasher.update('d', { file: path.join(dir, 'dropped'), start: 0, end: 2 });
    hasher.drop('d');
    hasher.update('d', { file: path.join(dir, 'dropped'), start: 1, end: 2 });
    expect(await hasher.digest('d')).toEqual({ sha256: sha256(Buffer.from('yz')), bytes: 2 });
  });

  it('refuses a digest whose thread stopped midway instead of answering a partial one', async () => {
    const own = new FileHashWorker();
    await writeFile(path.join(dir, 'lost'), 'abc');
    own.update('lost', { file: path.join(dir, 'lost'), start: 0, end: 2 });
    await own.close();
    await expect(own.digest('lost')).rejects.toThrow(/stopped before the digest was complete/);
    await own.close();
  });
});
