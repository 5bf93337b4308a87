import * as crypto from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { WharfIntegrityError } from '../../src/client/errors';
import { push } from '../../src/client/transfer/push';
import { WharfClient } from '../../src/client/wharf-client';
import { createModel, createProject } from '../support/fixtures';
import { ADMIN_TOKEN, startTestRegistry, TestRegistry } from '../support/test-registry';

const MIB = 1024 * 1024;
const sha256 = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');

/** Bytes the client's own code (src/client/) hashes on this thread, by push phase. */
function countClientHashing(): { bytes: Record<string, number>; phase: { current: string }; restore: () => void } {
  const bytes: Record<string, number> = {};
  const phase = { current: 'before' };
  const original = crypto.Hash.prototype.update;
  const spy = jest.spyOn(crypto.Hash.prototype, 'update').mockImplementation(function (this: crypto.Hash, ...args: Parameters<crypto.Hash['update']>) {
    if (/src[\\/]client[\\/]/.test(new Error().stack ?? '')) bytes[phase.current] = (bytes[phase.current] ?? 0) + Buffer.byteLength(args[0] as unknown as Buffer);
    return (original as (...values: unknown[]) => crypto.Hash).apply(this, args);
  });
  return { bytes, phase, restore: () => spy.mockRestore() };
}

describe('push', () => {
  let wharf: TestRegistry;
  let client: WharfClient;
  let work: string;
  beforeAll(async () => {
    // The registry's default part size, which the client expects.
    wharf = await startTestRegistry();
    await createProject(wharf, 'push');
    await createModel(wharf, 'push', 'm');
    client = new WharfClient({ url: wharf.url, token: ADMIN_TOKEN, retries: 0 });
    work = await mkdtemp(path.join(tmpdir(), 'wharf-push-client-'));
  });
  afterAll(async () => {
    await wharf?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('takes every part digest in the read that hashes the file, so sending hashes nothing', async () => {
    const data = crypto.randomBytes(40 * MIB + 123);
    const file = path.join(work, 'weights.bin');
    await writeFile(file, data);
    const counted = countClientHashing();
    let result;
    try {
      result = await push(client, {
        project: 'push',
        model: 'm',
        source: file,
        concurrency: 3,
        stateDirectory: path.join(work, 'state'),
        progress: (phase) => {
          counted.phase.current = phase;
          return { add: () => undefined, finish: () => undefined };
        },
      });
    } finally {
      counted.restore();
    }
    expect(result).toMatchObject({ version: 1, bytesSent: data.length, files: [{ path: 'weights.bin', size: data.length, sha256: sha256(data) }] });
    // The whole file's sha256 here, the parts' on a worker over the same bytes; none while sending.
    // (The few bytes over are the name of the push's resume note.)
    expect(Object.keys(counted.bytes)).toEqual(['hashing']);
    expect(counted.bytes.hashing - data.length).toBeLessThan(1024);
    expect(counted.bytes.hashing).toBeGreaterThanOrEqual(data.length);
    const parts: { number: number; sha256: string | null }[] = await wharf.registry.dataSource.query(`SELECT number, sha256 FROM upload_parts ORDER BY number`);
    expect(parts.map((part) => part.sha256)).toEqual([0, 1, 2].map((index) => sha256(data.subarray(index * 16 * MIB, (index + 1) * 16 * MIB))));
  });

  it('says a file rewritten in place after it was hashed changed, and commits nothing', async () => {
    const file = path.join(work, 'rewritten.bin');
    await writeFile(file, crypto.randomBytes(20 * MIB));
    const { mtime } = await stat(file);
    const before = await wharf.count('model_versions');
    const pushing = push(client, {
      project: 'push',
      model: 'm',
      source: file,
      concurrency: 1,
      stateDirectory: path.join(work, 'state'),
      progress: (phase) => {
        // Same size and mtime: only the bytes tell.
        if (phase === 'uploading') {
          writeFileSync(file, crypto.randomBytes(20 * MIB));
          utimesSync(file, mtime, mtime);
        }
        return { add: () => undefined, finish: () => undefined };
      },
    });
    await expect(pushing).rejects.toThrow(WharfIntegrityError);
    await expect(pushing).rejects.toThrow(/changed while it was being pushed/);
    const states = await wharf.registry.dataSource.query(`SELECT state FROM model_versions ORDER BY number DESC LIMIT 1`);
    expect(states).toEqual([{ state: 'draft' }]);
    expect(await wharf.count('model_versions')).toBe(before + 1);
  });
});
