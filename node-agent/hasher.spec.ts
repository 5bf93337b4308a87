import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BackgroundHasher } from './hasher';

describe('BackgroundHasher', () => {
  it('hashes a file as its prefix grows, on a worker thread', async () => {
    const dir = await fs.mkdtemp(path.join(tmpdir(), 'wharf-hasher-'));
    const file = path.join(dir, 'blob');
    const data = randomBytes(10 * 1024 * 1024 + 17);
    await fs.writeFile(file, Buffer.alloc(0));
    const hasher = new BackgroundHasher(file);
    const handle = await fs.open(file, 'r+');
    for (let offset = 0; offset < data.length; offset += 3 * 1024 * 1024) {
      const piece = data.subarray(offset, offset + 3 * 1024 * 1024);
      await handle.write(piece, 0, piece.length, offset);
      hasher.advance(offset + piece.length);
    }
    await handle.close();
    expect(await hasher.finish(data.length)).toBe(createHash('sha256').update(data).digest('hex'));
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('reports a file shorter than promised instead of a digest', async () => {
    const dir = await fs.mkdtemp(path.join(tmpdir(), 'wharf-hasher-'));
    const file = path.join(dir, 'short');
    await fs.writeFile(file, 'abc');
    await expect(new BackgroundHasher(file).finish(10)).rejects.toThrow(/short read/);
    await fs.rm(dir, { recursive: true, force: true });
  });
});
