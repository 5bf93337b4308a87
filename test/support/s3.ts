import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, IncomingMessage, request, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
// s3rver ships no types.
 
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => { run(): Promise<AddressInfo>; close(): Promise<void> };

export interface S3Target {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** Every part PUT that reached the server: part number and body bytes. */
  partRequests: { partNumber: number; bytes: number; url: string }[];
  /** Every request that reached the server, in order: method and path with query. */
  requests: { method: string; url: string }[];
  close(): Promise<void>;
}

/**
 * Ceph RGW (a real S3 with real rules) when TEST_S3_ENDPOINT, TEST_S3_ACCESS_KEY and
 * TEST_S3_SECRET_KEY are set; null otherwise.
 */
export function externalS3(): { endpoint: string; accessKey: string; secretKey: string } | null {
  const endpoint = process.env.TEST_S3_ENDPOINT;
  const accessKey = process.env.TEST_S3_ACCESS_KEY;
  const secretKey = process.env.TEST_S3_SECRET_KEY;
  return endpoint && accessKey && secretKey ? { endpoint, accessKey, secretKey } : null;
}

/**
 * s3rver (an S3 protocol server in this process, files in a temp dir) behind a small proxy that
 * records every UploadPart request, so tests can prove what reached S3. s3rver lacks two calls
 * real S3 has, AbortMultipartUpload and ListMultipartUploads; the proxy answers those from
 * s3rver's own on-disk upload state, so garbage collection is tested against real leftovers.
 */
export async function startS3rver(): Promise<S3Target> {
  const directory = await mkdtemp(path.join(tmpdir(), 'wharf-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = await server.run();
  const partRequests: S3Target['partRequests'] = [];
  const requests: S3Target['requests'] = [];
  const proxy: Server = createServer((incoming, outgoing) => {
    requests.push({ method: incoming.method ?? '', url: incoming.url ?? '' });
    const url = new URL(incoming.url ?? '/', 'http://x');
    if (answerMultipartCalls(directory, url, incoming, outgoing)) return;
    const partNumber = url.searchParams.get('partNumber');
    let bytes = 0;
    if (incoming.method === 'PUT' && partNumber && !incoming.headers['x-amz-copy-source']) {
      incoming.on('data', (chunk: Buffer) => (bytes += chunk.length));
      incoming.on('end', () => partRequests.push({ partNumber: Number(partNumber), bytes, url: incoming.url ?? '' }));
    }
    const upstream = request(
      { host: '127.0.0.1', port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 500, response.headers);
        response.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.on('aborted', () => upstream.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyPort = (proxy.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    partRequests,
    requests,
    async close() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** s3rver keeps each open multipart upload in `<dir>/<bucket>/._S3rver_uploads/<uploadId>/`. */
function answerMultipartCalls(directory: string, url: URL, incoming: IncomingMessage, outgoing: ServerResponse): boolean {
  const [bucket, ...keyParts] = url.pathname.slice(1).split('/');
  const uploadsDir = path.join(directory, decodeURIComponent(bucket ?? ''), '._S3rver_uploads');
  if (incoming.method === 'DELETE' && url.searchParams.has('uploadId') && keyParts.length) {
    const uploadId = url.searchParams.get('uploadId') ?? '';
    void (async () => {
      const dir = path.join(uploadsDir, path.basename(uploadId));
      const exists = await stat(dir).catch(() => null);
      await rm(dir, { recursive: true, force: true });
      outgoing.writeHead(exists ? 204 : 404, { 'content-type': 'application/xml' });
      outgoing.end(exists ? undefined : '<Error><Code>NoSuchUpload</Code><Message>no such upload</Message></Error>');
    })();
    incoming.resume();
    return true;
  }
  if (incoming.method === 'GET' && url.searchParams.has('uploads') && keyParts.length === 0) {
    const prefix = url.searchParams.get('prefix') ?? '';
    void (async () => {
      const uploads: string[] = [];
      for (const uploadId of await readdir(uploadsDir).catch(() => [] as string[])) {
        const key = await readFile(path.join(uploadsDir, uploadId, 'key'), 'utf8').catch(() => null);
        if (key === null || !key.startsWith(prefix)) continue;
        const initiated = (await stat(path.join(uploadsDir, uploadId))).mtime.toISOString();
        uploads.push(`<Upload><Key>${key}</Key><UploadId>${uploadId}</UploadId><Initiated>${initiated}</Initiated></Upload>`);
      }
      outgoing.writeHead(200, { 'content-type': 'application/xml' });
      outgoing.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>${bucket}</Bucket>` +
          `<IsTruncated>false</IsTruncated>${uploads.join('')}</ListMultipartUploadsResult>`,
      );
    })();
    incoming.resume();
    return true;
  }
  return false;
}
