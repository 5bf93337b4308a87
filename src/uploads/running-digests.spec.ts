import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileHashWorker } from '../common/file-hash-worker';
import { PartSource, RunningDigests } from './running-digests';

describe('RunningDigests', () => {
  let dir: string;
  const hasher = new FileHashWorker();
  const digests = new RunningDigests(hasher);
  /** A part as the fs driver keeps it: one file per attempt. */
  const at = (upload: string, number: number, etag: string, size: number): PartSource => ({ file: path.join(dir, upload, `${number}.${etag}`), size, spooled: false });

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
    for (const number of [3, 1, 2]) digests.partStored('u1', number, etags[number - 1], at('shuffled', number, etags[number - 1], parts[number - 1].length));
    expect(await digests.take('u1', listed(etags))).toEqual({ sha256: sha256(parts), bytes: 5 * 1024 * 1024 * 2 + 1234 });
    // Taken once: the upload is no longer followed.
    expect(await digests.take('u1', listed(etags))).toBeNull();
  });

  it('answers null when a part never reached this replica', async () => {
    const parts = [randomBytes(100), randomBytes(100)];
    const etags = await storeParts('gap', parts);
    digests.partStored('u2', 2, etags[1], at('gap', 2, etags[1], 100));
    expect(await digests.take('u2', listed(etags))).toBeNull();
  });

  it('answers null when a part already hashed was sent again with other bytes', async () => {
    const parts = [randomBytes(100), randomBytes(100)];
    const etags = await storeParts('replaced', parts);
    digests.partStored('u3', 1, etags[0], at('replaced', 1, etags[0], 100));
    digests.partStored('u3', 2, etags[1], at('replaced', 2, etags[1], 100));
    const retried = randomUUID();
    await writeFile(path.join(dir, 'replaced', `1.${retried}`), randomBytes(100));
    digests.partStored('u3', 1, retried, at('replaced', 1, retried, 100));
    expect(await digests.take('u3', listed([retried, etags[1]]))).toBeNull();
  });

  it('uses the latest attempt of a part that had not been hashed yet', async () => {
    const parts = [randomBytes(100), randomBytes(100)];
    const etags = await storeParts('retried', parts);
    const first = randomUUID();
    await writeFile(path.join(dir, 'retried', `2.${first}`), randomBytes(100));
    digests.partStored('u4', 2, first, at('retried', 2, first, 100));
    digests.partStored('u4', 2, etags[1], at('retried', 2, etags[1], 100));
    digests.partStored('u4', 1, etags[0], at('retried', 1, etags[0], 100));
    expect((await digests.take('u4', listed(etags)))?.sha256).toBe(sha256(parts));
  });

  it('answers null when the parts being assembled are not the ones it hashed', async () => {
    const parts = [randomBytes(100)];
    const etags = await storeParts('other', parts);
    digests.partStored('u5', 1, etags[0], at('other', 1, etags[0], 100));
    expect(await digests.take('u5', listed([randomUUID()]))).toBeNull();
  });

  it('answers null when a part file vanished before it was read', async () => {
    digests.partStored('u6', 1, 'no-such-etag', at('vanished', 1, 'no-such-etag', 100));
    expect(await digests.take('u6', listed(['no-such-etag']))).toBeNull();
  });

  describe('spooled copies (a store whose parts are not on local disk)', () => {
    /** Writes spooled copies of the parts and answers their sources. */
    async function spool(upload: string, parts: Buffer[]): Promise<PartSource[]> {
      await mkdir(path.join(dir, upload), { recursive: true });
      return Promise.all(
        parts.map(async (part, index) => {
          const file = path.join(dir, upload, `copy-${index + 1}`);
          await writeFile(file, part);
          return { file, size: part.length, spooled: true };
        }),
      );
    }
    const remaining = async (upload: string) => (await readdir(path.join(dir, upload))).sort();

    it('hashes the copies in part order and deletes each once it was read', async () => {
      const parts = [randomBytes(300), randomBytes(200), randomBytes(100)];
      const sources = await spool('spooled', parts);
      for (const number of [2, 3, 1]) digests.partStored('s1', number, `e${number}`, sources[number - 1]);
      expect(await digests.take('s1', listed(['e1', 'e2', 'e3']))).toEqual({ sha256: sha256(parts), bytes: 600 });
      expect(await remaining('spooled')).toEqual([]);
      expect(digests.waitingBytes).toBe(0);
    });

    it('lets an upload go, deleting its copies, when the copies waiting their turn would pass the bound', async () => {
      const bounded = new RunningDigests(hasher, 250);
      const parts = [randomBytes(100), randomBytes(100), randomBytes(100), randomBytes(100)];
      const sources = await spool('bounded', parts);
      // Part 1 went to another replica: 2 and 3 wait (200 bytes), 4 would make 300.
      bounded.partStored('s2', 2, 'e2', sources[1]);
      bounded.partStored('s2', 3, 'e3', sources[2]);
      expect(bounded.waitingBytes).toBe(200);
      bounded.partStored('s2', 4, 'e4', sources[3]);
      expect(bounded.waitingBytes).toBe(0);
      await eventuallyEmpty('bounded');
      expect(await bounded.take('s2', listed(['e1', 'e2', 'e3', 'e4']))).toBeNull();
    });

    it('deletes the copies still waiting when the upload is aborted (forget)', async () => {
      const sources = await spool('aborted', [randomBytes(10), randomBytes(10), randomBytes(10)]);
      digests.partStored('s3', 2, 'e2', sources[1]);
      digests.partStored('s3', 3, 'e3', sources[2]);
      digests.forget('s3');
      await eventuallyEmpty('aborted');
      expect(digests.waitingBytes).toBe(0);
      expect(await remaining('aborted')).toEqual(['copy-1']);
    });

    it('lets go of uploads no part reached for a while, deleting their waiting copies', async () => {
      const sources = await spool('idle', [randomBytes(10), randomBytes(10)]);
      digests.partStored('s4', 2, 'e2', sources[1]);
      digests.forgetIdle(60_000);
      expect(digests.waitingBytes).toBe(10);
      digests.forgetIdle(60_000, Date.now() + 61_000);
      expect(digests.waitingBytes).toBe(0);
      await eventuallyEmpty('idle');
    });

    /** Copies are deleted without waiting for the disk; look until they are gone. */
    async function eventuallyEmpty(upload: string, keep = ['copy-1']): Promise<void> {
      for (let attempt = 0; attempt < 100; attempt++) {
        if ((await remaining(upload)).every((name) => keep.includes(name))) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`copies left in ${upload}: ${(await remaining(upload)).join(', ')}`);
    }
  });
});
