import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, get, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FileExtent } from '../storage/artifact-store';
import { sendExtents } from './send-extents';

describe('sendExtents', () => {
  let dir: string;
  let server: Server;
  let url: string;
  let extents: FileExtent[] = [];
  let outcome: Promise<unknown> = Promise.resolve();
  const files: Buffer[] = [randomBytes(3 * 1024 * 1024 + 5), randomBytes(2 * 1024 * 1024), randomBytes(7)];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-send-extents-'));
    await Promise.all(files.map((data, index) => writeFile(path.join(dir, String(index)), data)));
    server = createServer((_request, response) => {
      outcome = sendExtents(response, extents).then(() => response.end());
      outcome.catch(() => response.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  /** Reads the whole body slowly, so the sender's buffers wait on a full socket. */
  function slowGet(pauseEvery: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      get(url, (response) => {
        const chunks: Buffer[] = [];
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          received += chunk.length;
          if (received >= pauseEvery) {
            received = 0;
            response.pause();
            setTimeout(() => response.resume(), 5);
          }
        });
        response.on('end', () => resolve(Buffer.concat(chunks)));
        response.on('error', reject);
      }).on('error', reject);
    });
  }

  it('sends extents of several files in order, unchanged by buffer reuse under backpressure', async () => {
    extents = [
      { file: path.join(dir, '0'), start: 0, end: files[0].length - 1 },
      { file: path.join(dir, '1'), start: 12345, end: 2 * 1024 * 1024 - 1 },
      { file: path.join(dir, '2'), start: 3, end: 3 },
    ];
    const expected = Buffer.concat([files[0], files[1].subarray(12345), files[2].subarray(3, 4)]);
    const body = await slowGet(512 * 1024);
    expect(body.length).toBe(expected.length);
    expect(createHash('sha256').update(body).digest('hex')).toBe(createHash('sha256').update(expected).digest('hex'));
    await outcome;
  });

  it('fails when a file is shorter than its extent says, after sending what there was', async () => {
    extents = [{ file: path.join(dir, '2'), start: 0, end: 99 }];
    const received = await new Promise<{ bytes: number; aborted: boolean }>((resolve) => {
      get(url, (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => (bytes += chunk.length));
        response.on('error', () => resolve({ bytes, aborted: true }));
        response.on('end', () => resolve({ bytes, aborted: false }));
      });
    });
    await expect(outcome).rejects.toThrow(/ended at byte 7, before 100/);
    // The connection is cut: a client sees a short body, never a complete-looking one.
    expect(received.bytes).toBe(7);
  });

  it('stops reading when the client goes away', async () => {
    extents = Array.from({ length: 50 }, () => ({ file: path.join(dir, '0'), start: 0, end: files[0].length - 1 }));
    await new Promise<void>((resolve) => {
      const request = get(url, (response) => {
        response.once('data', () => {
          request.destroy();
          resolve();
        });
      });
      request.on('error', () => undefined);
    });
    await sleep(50);
    await expect(outcome).rejects.toThrow();
  });
});
