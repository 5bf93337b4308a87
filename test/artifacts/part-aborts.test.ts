import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { IncomingMessage, request, Server } from 'node:http';
import * as path from 'node:path';
import { PartReceiver } from '../../src/uploads/part-receiver.service';
import { createUpload, draft, MIB, partOf, putPart } from '../support/artifacts';
import { within } from '../support/forms';
import { externalS3, S3Target, startS3rver } from '../support/s3';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

const DRIVERS = externalS3() ? (['fs', 's3', 'external-s3'] as const) : (['fs', 's3'] as const);

/** Part files the fs driver holds for its multipart uploads (attempts included). */
async function partFiles(dataDir: string): Promise<string[]> {
  const root = path.join(dataDir, 'blobs', 'multipart');
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile() && entry.parentPath.endsWith('parts')).map((entry) => entry.name);
}

describe.each(DRIVERS)('part PUTs cut off by their client on the %s driver', (driver) => {
  let registry: TestRegistry;
  let s3: S3Target | undefined;

  beforeAll(async () => {
    s3 = driver === 's3' ? await startS3rver() : undefined;
    const external = driver === 'external-s3' ? externalS3()! : undefined;
    const target = s3 ?? external;
    registry = await startTestRegistry({
      UPLOAD_PART_SIZE: String(5 * MIB),
      GC_INTERVAL_SECONDS: '0',
      ...(target
        ? { S3_ENDPOINT: target.endpoint, S3_ACCESS_KEY: target.accessKey, S3_SECRET_KEY: target.secretKey, S3_BUCKET: `wharf-test-${randomBytes(4).toString('hex')}` }
        : {}),
    });
  }, 180_000);
  afterAll(async () => {
    jest.restoreAllMocks();
    await registry?.close();
    await s3?.close();
  });

  it('ends a part PUT whose client went away before the registry read its body, keeping nothing of it', async () => {
    const versions = await draft(registry.url, 'p-early');
    const data = randomBytes(6 * MIB);
    const upload = await createUpload(registry.url, `${versions}/1`, { path: 'w.bin', data });
    const part = partOf(data, upload, 1);

    // Hold the part PUT at its first step (reading the upload's row) until the server has seen
    // its connection close: the body is gone before any listener on it exists.
    const server = registry.registry.app.getHttpServer() as Server;
    let serverSawClose!: Promise<void>;
    const watch = (req: IncomingMessage) => {
      if (req.url?.includes('/parts/')) serverSawClose = new Promise((resolve) => req.once('close', () => resolve()));
    };
    server.prependListener('request', watch);
    const service = registry.registry.app.get(PartReceiver) as unknown as { row: (...args: unknown[]) => Promise<unknown> };
    const row = service.row.bind(service);
    let entered!: () => void;
    const held = new Promise<void>((resolve) => (entered = resolve));
    jest.spyOn(service, 'row').mockImplementationOnce(async (...args: unknown[]) => {
      const found = await row(...args);
      entered();
      await serverSawClose;
      return found;
    });
    const handled: Promise<unknown>[] = [];
    const putPartOf = (service as unknown as { putPart: (...args: unknown[]) => Promise<unknown> });
    const handle = putPartOf.putPart.bind(service);
    jest.spyOn(putPartOf, 'putPart').mockImplementation((...args: unknown[]) => {
      const done = handle(...args);
      handled.push(done.catch(() => undefined));
      return done;
    });

    const req = request(`${registry.url}/api/v1/uploads/${upload.id}/parts/1`, {
      method: 'PUT',
      headers: { ...bearer(ADMIN_TOKEN), 'Content-Type': 'application/octet-stream', 'Content-Length': String(part.length) },
    });
    req.on('error', () => undefined);
    // Little enough that the server never stops reading the socket, so it hears the close.
    req.write(part.subarray(0, 1000));
    await held;
    req.destroy();
    // The handler must end (refusing the part) rather than wait for a body that never comes.
    await within(Promise.all(handled), 15_000, 'the end of the aborted part PUT');
    server.off('request', watch);
    jest.restoreAllMocks();

    const status = await registry.http.get(`/api/v1/uploads/${upload.id}`).set(bearer(ADMIN_TOKEN)).expect(200);
    expect(status.body.parts).toEqual([]);
    if (driver === 'fs') expect(await partFiles(registry.dataDir)).toEqual([]);
    // The part goes through when sent whole.
    await putPart(registry.url, upload.id, 1, part).expect(200);
  });
});
