import { createHash } from 'node:crypto';
import supertest from 'supertest';
import { ADMIN_TOKEN, bearer } from './test-registry';

export const MIB = 1024 * 1024;
export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export function http(url: string) {
  return supertest(url);
}

/** A project, a model and a draft version 1, as the admin. */
export async function draft(url: string, project: string, model = 'm'): Promise<string> {
  const agent = supertest(url);
  await agent.post('/api/v1/projects').set(bearer(ADMIN_TOKEN)).send({ name: project }).expect(201);
  await agent.post(`/api/v1/projects/${project}/models`).set(bearer(ADMIN_TOKEN)).send({ name: model }).expect(201);
  await agent.post(`/api/v1/projects/${project}/models/${model}/versions`).set(bearer(ADMIN_TOKEN)).send({}).expect(201);
  return `/api/v1/projects/${project}/models/${model}/versions`;
}

export interface CreatedUpload {
  id: string;
  partSize: number;
  partCount: number;
  state: string;
  deduplicated: boolean;
}

export async function createUpload(url: string, versionPath: string, file: { path: string; data: Buffer; sha256?: string }, token = ADMIN_TOKEN): Promise<CreatedUpload> {
  const response = await supertest(url)
    .post(`${versionPath}/uploads`)
    .set(bearer(token))
    .send({ path: file.path, size: file.data.length, sha256: file.sha256 ?? sha256(file.data) });
  if (response.status !== 201) throw new Error(`create upload: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as CreatedUpload;
}

export function partOf(data: Buffer, upload: { partSize: number }, number: number): Buffer {
  return data.subarray((number - 1) * upload.partSize, number * upload.partSize);
}

export function putPart(url: string, id: string, number: number, body: Buffer, partSha?: string) {
  const request = supertest(url).put(`/api/v1/uploads/${id}/parts/${number}`).set(bearer(ADMIN_TOKEN)).set('Content-Type', 'application/octet-stream');
  if (partSha) request.set('X-Part-Sha256', partSha);
  return request.send(body);
}

/** Shuffled part numbers 1..count (deterministic). */
export function shuffled(count: number, seed = 7): number[] {
  const numbers = Array.from({ length: count }, (_, index) => index + 1);
  let state = seed;
  for (let index = numbers.length - 1; index > 0; index--) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const other = state % (index + 1);
    [numbers[index], numbers[other]] = [numbers[other], numbers[index]];
  }
  return numbers;
}

/** Uploads a whole file through a session, parts in parallel and out of order, then completes it. */
export async function uploadFile(url: string, versionPath: string, path: string, data: Buffer, concurrency = 3): Promise<CreatedUpload> {
  const upload = await createUpload(url, versionPath, { path, data });
  if (upload.state === 'complete') return upload;
  const queue = shuffled(upload.partCount);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let number = queue.shift(); number !== undefined; number = queue.shift()) {
        const part = partOf(data, upload, number);
        const response = await putPart(url, upload.id, number, part, sha256(part));
        if (response.status !== 200) throw new Error(`part ${number}: ${response.status} ${JSON.stringify(response.body)}`);
      }
    }),
  );
  const completed = await supertest(url).post(`/api/v1/uploads/${upload.id}/complete`).set(bearer(ADMIN_TOKEN));
  if (completed.status !== 200) throw new Error(`complete: ${completed.status} ${JSON.stringify(completed.body)}`);
  return completed.body as CreatedUpload;
}

/** Binary response bodies as Buffers. */
export function binary(response: supertest.Test): supertest.Test {
  return response.buffer(true).parse((res, callback) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => callback(null, Buffer.concat(chunks)));
  });
}
