import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { digestFile } from './file-digests';

const MIB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('digestFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-digests-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['several whole parts and a short last one', 23 * MIB + 12345, 5 * MIB],
    ['parts that are not a multiple of the read size', 13 * MIB + 1, 6 * MIB + 512 * 1024],
    ['a file smaller than one part', 1000, 5 * MIB],
    ['exactly one part', 5 * MIB, 5 * MIB],
  ])('computes the file and part digests of %s in one read', async (_, size, partSize) => {
    const data = randomBytes(size);
    const file = path.join(dir, `f-${size}`);
    await writeFile(file, data);
    let progress = 0;
    const digests = await digestFile(file, () => partSize, (bytes) => (progress += bytes));
    const parts = Array.from({ length: Math.ceil(size / partSize) }, (__, index) => sha256(data.subarray(index * partSize, (index + 1) * partSize)));
    expect(digests).toMatchObject({ sha256: sha256(data), size, partSize, partSha256: parts });
    expect(progress).toBe(size);
  });

  it('gives an empty file one empty part', async () => {
    const file = path.join(dir, 'empty');
    await writeFile(file, '');
    expect(await digestFile(file, () => 5 * MIB)).toMatchObject({ sha256: sha256(Buffer.alloc(0)), size: 0, partSha256: [sha256(Buffer.alloc(0))] });
  });
});
