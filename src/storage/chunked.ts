import type { Readable } from 'node:stream';

/** Regroups a stream into buffers of exactly `size` bytes (the last may be shorter). */
export async function* chunked(body: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const data of body) {
    let chunk = data as Buffer;
    while (pendingBytes + chunk.length >= size) {
      const take = size - pendingBytes;
      pending.push(chunk.subarray(0, take));
      yield Buffer.concat(pending);
      chunk = chunk.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (chunk.length) {
      pending.push(chunk);
      pendingBytes += chunk.length;
    }
  }
  if (pendingBytes) yield Buffer.concat(pending);
}

