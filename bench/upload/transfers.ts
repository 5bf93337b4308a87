/**
 * The ways bench:upload moves one file: a Wharf upload through the SDK, `wharf push`, a direct
 * S3 multipart upload (the fair baseline), and a bare Node server that only writes and fsyncs
 * (the floor of any HTTP upload here). Every one sends the same parts with the same client code.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { push } from '../../src/client/transfer/push';
import { WharfClient } from '../../src/client/wharf-client';
import { S3ArtifactStore } from '../../src/storage/s3.driver';
import { startChild } from '../../test/support/child-process';
import { ADMIN_TOKEN } from '../../test/support/test-registry';

export const MIB = 1024 * 1024;
export const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

export interface S3Target {
  endpoint: string;
  accessKey: string;
  secretKey: string;
}

export interface UploadShape {
  file: string;
  size: number;
  partSize: number;
  concurrency: number;
}

export async function makeFile(file: string, size: number): Promise<void> {
  const out = createWriteStream(file);
  const block = randomBytes(4 * MIB);
  for (let written = 0; written < size; ) {
    const chunk = block.subarray(0, Math.min(block.length, size - written));
    // Vary every block so no layer can dedupe or compress it away.
    chunk.writeUInt32LE(written / MIB, 0);
    if (!out.write(Buffer.from(chunk))) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    written += chunk.length;
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * MIB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Part buffers used again from part to part, as `wharf push` does. */
const spareParts: Buffer[] = [];

async function readRange(file: string, start: number, into: Buffer): Promise<void> {
  const handle = await open(file, 'r');
  try {
    for (let read = 0; read < into.length; ) {
      const { bytesRead } = await handle.read(into, read, into.length - read, start + read);
      if (bytesRead === 0) throw new Error(`${file} is shorter than expected`);
      read += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Sends the file in parts of `partSize`, `concurrency` at a time, each read into a buffer used
 * again for the next part (as `wharf push` does); `send` puts one part wherever it goes.
 */
async function sendParts(shape: UploadShape, partSize: number, send: (number: number, body: Buffer) => Promise<unknown>): Promise<void> {
  const queue = Array.from({ length: Math.ceil(shape.size / partSize) }, (_, index) => index + 1);
  await Promise.all(
    Array.from({ length: shape.concurrency }, async () => {
      const reused = spareParts.pop();
      const buffer = reused && reused.length >= partSize ? reused : Buffer.allocUnsafe(partSize);
      for (let number = queue.shift(); number !== undefined; number = queue.shift()) {
        const start = (number - 1) * partSize;
        const body = buffer.subarray(0, Math.min(partSize, shape.size - start));
        await readRange(shape.file, start, body);
        await send(number, body);
      }
      spareParts.push(buffer);
    }),
  );
}

/** A new project (so nothing is deduplicated) with model `m`. */
async function newModel(client: WharfClient): Promise<string> {
  const project = `bench-${randomUUID().slice(0, 8)}`;
  await client.createProject({ name: project });
  await client.createModel(project, { name: 'm' });
  return project;
}

/**
 * A Wharf upload through the SDK with the least the protocol asks for: draft, upload session,
 * parts in parallel (no per-part sha256: the registry checks the file's sha256 at complete),
 * complete, commit. Returns the project it made, for `removeProject`.
 */
export async function wharfUpload(url: string, shape: UploadShape, sha256: string): Promise<{ project: string; parts: number; complete: number }> {
  const client = new WharfClient({ url, token: ADMIN_TOKEN });
  const project = await newModel(client);
  await client.createVersion(project, 'm');
  const upload = await client.createUpload(project, 'm', 1, { path: 'model.bin', size: shape.size, sha256 });
  const partsStart = process.hrtime.bigint();
  await sendParts(shape, upload.partSize, (number, body) => client.putPart(upload.id, number, body));
  const parts = seconds(partsStart);
  const completeStart = process.hrtime.bigint();
  await client.completeUpload(upload.id);
  const version = await client.commitVersion(project, 'm', 1);
  if (version.state !== 'ready') throw new Error('the version is not ready');
  return { project, parts, complete: seconds(completeStart) };
}

/** What `wharf push FILE` does (each part with its sha256), timed from the end of its local hashing. */
export async function wharfPush(url: string, shape: UploadShape, stateDirectory: string): Promise<{ project: string; hashing: number; afterHashing: number }> {
  const client = new WharfClient({ url, token: ADMIN_TOKEN });
  const project = await newModel(client);
  const start = process.hrtime.bigint();
  let hashed = start;
  await push(client, {
    project,
    model: 'm',
    source: shape.file,
    concurrency: shape.concurrency,
    stateDirectory,
    progress: (phase) => ({ add: () => undefined, finish: () => (phase === 'hashing' ? (hashed = process.hrtime.bigint()) : undefined) }),
  });
  return { project, hashing: Number(hashed - start) / 1e9, afterHashing: seconds(hashed) };
}

/**
 * Deletes a bench project's model and collects its blobs at once (the registry runs with
 * GC_GRACE_SECONDS=0), so repeated runs fit a small test store (Ceph's memstore).
 */
export async function removeProject(url: string, project: string): Promise<void> {
  const headers = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  for (const [method, route] of [['DELETE', `/api/v1/projects/${project}/models/m`], ['DELETE', `/api/v1/projects/${project}`], ['POST', '/api/v1/admin/gc']]) {
    const response = await fetch(url + route, { method, headers });
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
  }
}

/**
 * The fair baseline: the file straight to S3 as one multipart upload, `concurrency` parts of
 * `partSize` at a time, through the S3 calls the registry itself makes (streamed parts,
 * UNSIGNED-PAYLOAD), with no Wharf in between.
 */
export async function directMultipart(target: S3Target, shape: UploadShape): Promise<number> {
  const store = new S3ArtifactStore({ ...target, bucket: `bench-multipart-${randomUUID().slice(0, 8)}`, region: 'us-east-1' });
  await store.init();
  const start = process.hrtime.bigint();
  const uploadId = await store.createMultipart('model.bin');
  const parts: { number: number; size: number; etag: string }[] = [];
  await sendParts(shape, shape.partSize, async (number, body) => {
    const { etag } = await store.uploadPart('model.bin', uploadId, { number, offset: (number - 1) * shape.partSize, size: body.length }, Readable.from([body]));
    parts.push({ number, size: body.length, etag });
  });
  await store.completeMultipart('model.bin', uploadId, parts.sort((a, b) => a.number - b.number));
  const time = seconds(start);
  // A test store may be small (Ceph's memstore): the baselines' copies make room for Wharf's.
  await store.delete('model.bin');
  return time;
}

/**
 * The floor under any HTTP upload here: a bare Node server in a process of its own that writes
 * each part to a file of its own and fsyncs it, with no authentication, database or hashing,
 * fed by the same client code. What Wharf adds is measured against this, not only against cp.
 */
const BARE_SERVER = `
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const dir = process.argv[1];
http.createServer((request, response) => {
  const out = fs.createWriteStream(path.join(dir, 'part-' + request.url.split('/').pop()), { flush: true, highWaterMark: 1024 * 1024 });
  request.pipe(out).on('finish', () => response.end('{}'));
}).listen(0, '127.0.0.1', function () { process.stdout.write(JSON.stringify({ msg: 'bare server listening', port: this.address().port }) + '\\n'); });
`;

export async function bareServerUpload(dir: string, shape: UploadShape): Promise<number> {
  const partsDir = path.join(dir, 'bare-parts');
  await mkdir(partsDir);
  const server = await startChild({ name: 'bare server', args: ['-e', BARE_SERVER, partsDir], env: {}, ready: (line) => (line.includes('bare server listening') ? (JSON.parse(line) as { port: number }).port : undefined) });
  try {
    const client = new WharfClient({ url: `http://127.0.0.1:${server.ready}` });
    const start = process.hrtime.bigint();
    await sendParts(shape, shape.partSize, (number, body) => client.http.sendBytes('PUT', `/parts/${number}`, body));
    return seconds(start);
  } finally {
    await server.stop();
    await rm(partsDir, { recursive: true, force: true });
  }
}
