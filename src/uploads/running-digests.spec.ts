import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileHashWorker } from '../common/file-hash-worker';
import type { ArtifactStore } from '../storage/artifact-store';
import { RunningDigests } from './running-digests';

describe('RunningDigests', () => {
  let dir: string;
  const hasher = new FileHashWorker();
  /** Only what RunningDigests uses of a store with parts on local disk. */
  const store = { localPartFile: (uploadId: string, number: number, etag: string) => path.join(dir, uploadId, `${number}.${etag}`) } as unknown as ArtifactStore;
  const digests = new RunningDigests(store, hasher);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-running-digests-'));
  });
  afterAll(async () => {
    await hasher.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes the parts as the fs driver would (one file per attempt) and returns their etags. */
  async function storeParts(uploadId: string, parts: Buffer[]): Promise<string[]> {
    await mkdir(path.join(dir, uploadId), { recursive: true });
    return Promise.all(
      parts.map(async (part, index) => {
        const etag = randomUUID();
        await writeFile(path.join(dir, uploadId, `${index + 1}.${etag}`), part);
        return etag;
      }),
    );
  }

  const sha256 = (parts: Buffer[]) => parts.reduce((hash, part) => hash.update(part), createHash('sha256')).digest('hex');
  const listed = (etags: string[]) => etags.map((etag, index) => ({ number: index + 1, etag }));

  it('hashes parts arriving in any order, in part order, and answers the whole digest', async () => {
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024), randomBytes(1234)];
    const etags = await storeParts('shuffled', parts);
    for (const number of [3, 1, 2]) digests.partStored('u1', 'shuffled', number, etags[number - 1], parts[number - 1].length);
    expect(await digests.take('u1', listed(etags))).toEqual({ sha256: sha256(parts), bytes: 5 * 1024 * 1024 * 2 + 1234 });
    // Taken once: the upload is no longer followed.
    expect(await digests.take('u1', listed(etags))).toBeNull();
  });

  it('answers null when a part never reached this replica', async () => {
    const parts = [randomBytes(100), randomBytes(100)];
    const etags = await storeParts('gap', parts);
    digests.partStored('u2', 'gap', 2, etags[1], 100);
    expect(await digests.take('u2', listed(etags))).toBeNull();
  });

  it('answers null when a part already hashed was sent again with other bytes', async () => {
    const parts = [randomBytes(100), randomBytes(100)];
    const etags = await storeParts('replaced', parts);
    digests.partStored('u3', 'replaced', 1, etags[0], 100);
    digests.partStored('u3', 'replaced', 2, etags[1], 100);
    const retried = randomUUID();
    await writeFile(path.join(dir, 'replaced', `1.${retried}`), randomBytes(100));
    digests.partStored('u3', 'replaced', 1, retried, 100);
    expect(await digests.take('u3', listed([retried, etags[1]]))).toBeNull();
  });

  it('uses the latest attempt of a part that had not been hashed yet', async () => {
    const parts = [randomBytes(100), randomBytes(100)];
    const etags = await storeParts('retried', parts);
    const first = randomUUID();
    await writeFile(path.join(dir, 'retried', `2.${first}`), randomBytes(100));
    digests.partStored('u4', 'retried', 2, first, 100);
    digests.partStored('u4', 'retried', 2, etags[1], 100);
    digests.partStored('u4', 'retried', 1, etags[0], 100);
    expect((await digests.take('u4', listed(etags)))?.sha256).toBe(sha256(parts));
  });

  it('answers null when the parts being assembled are not the ones it hashed', async () => {
    const parts = [randomBytes(100)];
    const etags = await storeParts('other', parts);
    digests.partStored('u5', 'other', 1, etags[0], 100);
    expect(await digests.take('u5', listed([randomUUID()]))).toBeNull();
  });

  it('answers null when a part file vanished before it was read', async () => {
    digests.partStored('u6', 'vanished', 1, 'no-such-etag', 100);
    expect(await digests.take('u6', listed(['no-such-etag']))).toBeNull();
  });

  it('follows nothing for a store whose parts are not on local disk', async () => {
    const remote = new RunningDigests({} as ArtifactStore, hasher);
    remote.partStored('u7', 'remote', 1, 'etag', 100);
    expect(await remote.take('u7', listed(['etag']))).toBeNull();
  });
});
