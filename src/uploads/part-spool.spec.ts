import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PartSpool, SpoolingStream } from './part-spool';

async function drain(stream: SpoolingStream, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), stream, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) out.push(chunk);
  });
  return Buffer.concat(out);
}

describe('PartSpool', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'wharf-spool-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('passes every byte on and keeps the same bytes in its file', async () => {
    const spool = new PartSpool(root);
    await spool.init();
    const chunks = [randomBytes(70_000), randomBytes(1), randomBytes(300_000)];
    const copier = spool.copier('upload', 3);
    // Buffer.equals: jest's toEqual walks a buffer byte by byte (seconds for a few hundred KB).
    expect((await drain(copier, chunks)).equals(Buffer.concat(chunks))).toBe(true);
    expect(copier.complete).toBe(true);
    expect((await readFile(copier.file)).equals(Buffer.concat(chunks))).toBe(true);
    expect(path.dirname(copier.file)).toBe(path.join(root, String(process.pid)));
    await spool.close();
    expect(await readdir(root)).toEqual([]);
  });

  it('still passes the bytes on when its file cannot be written, and says the copy is not whole', async () => {
    const copier = new SpoolingStream(path.join(root, 'no-such-directory', 'copy'));
    const chunks = [randomBytes(1000), randomBytes(2000)];
    expect((await drain(copier, chunks)).equals(Buffer.concat(chunks))).toBe(true);
    expect(copier.complete).toBe(false);
  });

  it('deletes the directories of processes that are gone, and only those', async () => {
    // pid 2^22 + 1 is above Linux's pid_max ceiling: never a running process.
    const gone = path.join(root, String(2 ** 22 + 1));
    const alive = path.join(root, String(process.ppid));
    for (const directory of [gone, alive]) {
      await mkdir(directory);
      await writeFile(path.join(directory, 'copy'), 'x');
    }
    await new PartSpool(root).init();
    expect((await readdir(root)).sort()).toEqual([String(process.pid), String(process.ppid)].sort());
  });
});
