import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CacheStore, safeRelativePath } from './store';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('CacheStore', () => {
  let root: string;
  let store: CacheStore;
  const ref = { project: 'vision', model: 'resnet', version: 1 };

  async function putBlob(text: string): Promise<{ path: string; size: number; sha256: string }> {
    const digest = sha(text);
    await fs.writeFile(store.partialPath(digest), text);
    await store.publishBlob(digest, store.partialPath(digest));
    return { path: '', size: Buffer.byteLength(text), sha256: digest };
  }

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(tmpdir(), 'wharf-store-'));
    store = new CacheStore(root);
    await store.open();
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('publishes a version as hard links to its blobs, sharing a blob between files and versions', async () => {
    const weights = await putBlob('weights');
    const files = [
      { ...weights, path: 'model.bin' },
      { ...weights, path: 'copy/model.bin' },
    ];
    const ready = await store.publishVersion(ref, 'sha256:x', files);
    await store.publishVersion({ ...ref, version: 2 }, 'sha256:y', files);
    expect(ready).toMatchObject({ key: 'vision/resnet@1', bytes: 14 });
    expect(await fs.readFile(path.join(store.versionDir(ref), 'copy/model.bin'), 'utf8')).toBe('weights');
    expect((await fs.stat(store.blobPath(weights.sha256))).nlink).toBe(5);
    expect(await store.usedBytes()).toBeLessThanOrEqual(4096);
  });

  it('rebuilds the index on open and discards versions without a marker, staging trees and broken files', async () => {
    const blob = await putBlob('abc');
    await store.publishVersion(ref, 'sha256:x', [{ ...blob, path: 'a' }]);
    await store.publishVersion({ ...ref, version: 2 }, 'sha256:y', [{ ...blob, path: 'a' }]);
    await fs.mkdir(path.join(store.versionDir({ ...ref, version: 3 })), { recursive: true });
    await fs.mkdir(path.join(path.dirname(store.versionDir(ref)), '.staging-x1'));
    await fs.rm(`${store.versionDir({ ...ref, version: 2 })}.ready.json`);
    const reopened = await new CacheStore(root).open();
    expect(reopened.ready.map((version) => version.key)).toEqual(['vision/resnet@1']);
    expect(reopened.discarded.sort()).toEqual(['vision/resnet/.staging-x1', 'vision/resnet/2', 'vision/resnet/3']);
  });

  it('discards a version whose file lost bytes, and one whose content changed when verifying', async () => {
    const blob = await putBlob('abcdef');
    await store.publishVersion(ref, 'sha256:x', [{ ...blob, path: 'a' }]);
    await fs.writeFile(store.blobPath(blob.sha256), 'abcdeX');
    expect((await new CacheStore(root).open()).ready).toHaveLength(1);
    expect((await new CacheStore(root).open(true)).ready).toHaveLength(0);
    const again = await putBlob('abcdef');
    await store.publishVersion(ref, 'sha256:x', [{ ...again, path: 'a' }]);
    await fs.truncate(store.blobPath(again.sha256), 2);
    expect((await new CacheStore(root).open()).ready).toHaveLength(0);
  });

  it('collects blobs no version links, except those it is told to keep', async () => {
    const kept = await putBlob('kept');
    const linked = await putBlob('linked');
    const loose = await putBlob('loose');
    await store.publishVersion(ref, 'sha256:x', [{ ...linked, path: 'a' }]);
    expect(await store.collectGarbage(new Set([kept.sha256]))).toBe(5);
    expect(await fs.readdir(store.blobsDir)).toEqual([kept.sha256, linked.sha256].sort());
    await store.removeVersion(ref);
    await store.collectGarbage();
    expect(await fs.readdir(store.blobsDir)).toEqual([]);
    expect(loose.size).toBe(5);
  });

  it('refuses to publish a manifest path that escapes the version directory', async () => {
    const blob = await putBlob('x');
    await expect(store.publishVersion(ref, 'sha256:x', [{ ...blob, path: '../escape' }])).rejects.toThrow(/unsafe path/);
  });

  it.each([
    ['model.bin', true],
    ['a/b/c.json', true],
    ['../x', false],
    ['/etc/passwd', false],
    ['a//b', false],
    ['a/./b', false],
    ['', false],
  ])('judges the manifest path %j safe: %s', (file, expected) => {
    expect(safeRelativePath(file)).toBe(expected);
  });
});
