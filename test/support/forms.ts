import { request } from 'node:http';
import { ADMIN_TOKEN, bearer } from './test-registry';

export const BOUNDARY = 'BB';

/** One file part of a multipart/form-data body, its filename sent as raw UTF-8 bytes. */
export function filePart(filename: string, data: Buffer | string): Buffer {
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    Buffer.from(data),
    Buffer.from('\r\n'),
  ]);
}

/** A whole form of file parts with its closing boundary. */
export function formBody(files: { name: string; data: Buffer | string }[]): Buffer {
  return Buffer.concat([...files.map((file) => filePart(file.name, file.data)), Buffer.from(`--${BOUNDARY}--\r\n`)]);
}

/** The body finding 1 of issue 12 sent: a file part, and then the body just ends. */
export const CUT_SHORT_FORM = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="t.bin"\r\n\r\nXXXX`);

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** POSTs bytes exactly as given (supertest would mend a broken form), with a Content-Length. */
export function postForm(url: string, body: Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...bearer(ADMIN_TOKEN), 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, 'Content-Length': String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Starts a form upload that announces `declared` bytes, sends `sent` of them and keeps the
 * connection open; `abort()` then cuts it, as a client that dies mid-upload does.
 */
export function startForm(url: string, declared: number, sent: Buffer): { abort(): Promise<void> } {
  const req = request(url, {
    method: 'POST',
    headers: { ...bearer(ADMIN_TOKEN), 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, 'Content-Length': String(declared) },
  });
  req.on('error', () => undefined);
  req.write(sent);
  return {
    abort: () =>
      new Promise<void>((resolve) => {
        req.once('close', () => resolve());
        req.destroy();
      }),
  };
}

/** Rejects when `promise` has not settled within `ms`: a wait that must not hang the suite. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
