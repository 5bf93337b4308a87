import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { ExecutorError } from '../problems';
import type { PayloadStore } from './payloads';

export interface ReadBody {
  /** The whole body when it is at most the inline threshold. */
  inline?: Buffer;
  /** Where the body went in S3 when it was larger. */
  key?: string;
  size: number;
  digest: string;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function idempotencyKeyOf(request: IncomingMessage): string | undefined {
  const raw = request.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const key = String(raw);
  if (!IDEMPOTENCY_KEY.test(key)) throw new ExecutorError('validation_failed', 'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces');
  return key;
}

export function callbackUrlOf(request: IncomingMessage): string | undefined {
  const raw = request.headers['x-callback-url'];
  if (raw === undefined) return undefined;
  const value = String(raw);
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol) || value.length > 2048 || url.username || url.password) {
    throw new ExecutorError('validation_failed', 'X-Callback-Url must be an absolute http:// or https:// URL without credentials, at most 2048 characters');
  }
  return url.toString();
}

/**
 * Reads a request body into memory up to `inlineLimit` bytes; past that, streams all of it
 * (what was read first, then the rest) into S3 under `key`, so a large body never sits in memory.
 * The sha256 of the body comes out either way (idempotency keys compare it).
 */
export async function readAsyncBody(request: IncomingMessage, inlineLimit: number, maxBytes: number, store: PayloadStore, key: string): Promise<ReadBody> {
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let size = 0;
  const iterator = request[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const take = (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxBytes) throw new ExecutorError('payload_too_large', `The request body is larger than the ${maxBytes} bytes this deployment accepts`);
    hash.update(chunk);
  };
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { inline: Buffer.concat(head, size), size, digest: hash.digest('hex') };
    take(next.value);
    head.push(next.value);
    if (size > inlineLimit) break;
  }
  const whole = Readable.from(
    (async function* () {
      yield* head;
      head.length = 0;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        take(next.value);
        yield next.value;
      }
    })(),
    { objectMode: false },
  );
  await store.put(key, whole, request.headers['content-type']);
  return { key, size, digest: hash.digest('hex') };
}

export const newJobId = (): string => randomUUID();
