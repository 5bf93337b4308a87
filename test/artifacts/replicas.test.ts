import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import supertest from 'supertest';
import { binary, createUpload, draft, MIB, partOf, putPart, sha256, shuffled } from '../support/artifacts';
import { RegistryProcess, startRegistryProcess } from '../support/registry-process';
import { S3Target, startS3rver } from '../support/s3';
import { createSharedDatabase, TestDatabase } from '../support/test-database';
import { ADMIN_TOKEN, bearer } from '../support/test-registry';

/** Sends the first `sent` bytes of a part of `size` bytes and leaves the request hanging. */
function startPartialPart(url: string, id: string, number: number, size: number, sent: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const target = new URL(`/api/v1/uploads/${id}/parts/${number}`, url);
    const req = request(target, {
      method: 'PUT',
      headers: { ...bearer(ADMIN_TOKEN), 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
    });
    req.on('error', () => undefined);
    req.write(sent, () => setTimeout(resolve, 200));
  });
}

describe.each(['fs', 's3'] as const)('an upload spread over registry processes (%s driver)', (driver) => {
  let database: TestDatabase;
  let dataDir: string;
  let s3: S3Target | undefined;
  const processes: RegistryProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createSharedDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-replicas-'));
    s3 = driver === 's3' ? await startS3rver() : undefined;
    env = {
      DATABASE_URL: database.url,
      // Both processes share one store: the same blob directory, or the same S3 server.
      DATA_DIR: dataDir,
      UPLOAD_PART_SIZE: String(5 * MIB),
      GC_INTERVAL_SECONDS: '0',
      ...(s3 ? { S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY: s3.accessKey, S3_SECRET_KEY: s3.secretKey } : {}),
    };
    processes.push(await startRegistryProcess(env));
    processes.push(await startRegistryProcess(env));
  });
  afterAll(async () => {
    for (const registry of processes) await registry.stop();
    await database?.drop();
    await s3?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('completes a 64 MiB file whose parts were sent in shuffled order alternating between two processes', async () => {
    const [first, second] = processes;
    const versions = await draft(first.url, `spread-${driver}`);
    const data = randomBytes(64 * MIB + 123);
    const upload = await createUpload(first.url, `${versions}/1`, { path: 'model.bin', data });
    expect(upload.partCount).toBe(13);
    const order = shuffled(upload.partCount, 11);
    await Promise.all(
      [0, 1].map(async (lane) => {
        for (let index = lane; index < order.length; index += 2) {
          const number = order[index];
          const part = partOf(data, upload, number);
          await putPart((index % 2 === 0 ? first : second).url, upload.id, number, part, sha256(part)).expect(200);
        }
      }),
    );
    await supertest(second.url).post(`/api/v1/uploads/${upload.id}/complete`).set(bearer(ADMIN_TOKEN)).expect(200);
    await supertest(first.url).post(`${versions}/1/commit`).set(bearer(ADMIN_TOKEN)).expect(200);
    for (const registry of [first, second]) {
      const download = await binary(supertest(registry.url).get(`${versions}/1/files/model.bin`).set(bearer(ADMIN_TOKEN))).expect(200);
      expect(sha256(download.body as Buffer)).toBe(sha256(data));
    }
  });

  it('resumes from the upload status after the process was killed mid-part', async () => {
    const victim = processes[0];
    const versions = await draft(victim.url, `crash-${driver}`);
    const data = randomBytes(3 * 5 * MIB + 77);
    const upload = await createUpload(victim.url, `${versions}/1`, { path: 'model.bin', data });
    await putPart(victim.url, upload.id, 2, partOf(data, upload, 2)).expect(200);
    const third = partOf(data, upload, 3);
    await startPartialPart(victim.url, upload.id, 3, third.length, third.subarray(0, 2 * MIB));
    await victim.kill();
    processes[0] = await startRegistryProcess(env);
    const restarted = processes[0];

    const status = await supertest(restarted.url).get(`/api/v1/uploads/${upload.id}`).set(bearer(ADMIN_TOKEN)).expect(200);
    expect(status.body.state).toBe('open');
    const received = status.body.parts.map((part: { number: number }) => part.number);
    expect(received).toEqual([2]);
    for (const number of [1, 3, 4].filter((candidate) => !received.includes(candidate))) {
      await putPart(restarted.url, upload.id, number, partOf(data, upload, number)).expect(200);
    }
    await supertest(processes[1].url).post(`/api/v1/uploads/${upload.id}/complete`).set(bearer(ADMIN_TOKEN)).expect(200);
    const download = await binary(supertest(restarted.url).get(`${versions}/1/files/model.bin`).set(bearer(ADMIN_TOKEN))).expect(200);
    expect(sha256(download.body as Buffer)).toBe(sha256(data));
  });
});
