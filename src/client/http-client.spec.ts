import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WharfApiError, WharfUnavailableError } from './errors';
import { HttpClient } from './http-client';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const close = (server: Server) => new Promise((resolve) => server.close(resolve));

async function text(body: AsyncIterable<unknown>): Promise<string> {
  let all = '';
  for await (const chunk of body) all += String(chunk);
  return all;
}

describe('HttpClient.stream', () => {
  it('streams a body with the bearer token and the caller’s headers', async () => {
    const { url, server } = await serve((request, response) => {
      response.writeHead(206, { 'Content-Range': 'bytes 2-4/10' }).end(`${request.headers.authorization} ${request.headers.range}`);
    });
    const response = await new HttpClient({ url, token: 'secret' }).stream('/file', { headers: { Range: 'bytes=2-4' } });
    expect(response.status).toBe(206);
    expect(response.headers['content-range']).toBe('bytes 2-4/10');
    expect(await text(response.body)).toBe('Bearer secret bytes=2-4');
    await close(server);
  });

  it('follows a redirect to another origin (a presigned URL) without the bearer token', async () => {
    const target = await serve((request, response) => response.end(`auth=${request.headers.authorization ?? 'none'} range=${request.headers.range}`));
    const registry = await serve((_request, response) => response.writeHead(302, { Location: `${target.url}/bucket/key?signature=x` }).end());
    const response = await new HttpClient({ url: registry.url, token: 'secret' }).stream('/file', { headers: { Range: 'bytes=0-1' } });
    expect(response.status).toBe(200);
    expect(await text(response.body)).toBe('auth=none range=bytes=0-1');
    await Promise.all([close(target.server), close(registry.server)]);
  });

  it('keeps the bearer token on a redirect within the registry', async () => {
    const { url, server } = await serve((request, response) => {
      if (request.url === '/old') response.writeHead(307, { Location: '/new' }).end();
      else response.end(String(request.headers.authorization));
    });
    expect(await text((await new HttpClient({ url, token: 'secret' }).stream('/old')).body)).toBe('Bearer secret');
    await close(server);
  });

  it('turns a problem+json answer into a WharfApiError with its code', async () => {
    const { url, server } = await serve((_request, response) => {
      response.writeHead(404, { 'Content-Type': 'application/problem+json' }).end(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'No file "x"', code: 'file_not_found' }));
    });
    const error = await new HttpClient({ url, retries: 0 }).stream('/file').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WharfApiError);
    expect(error).toMatchObject({ status: 404, code: 'file_not_found', message: 'No file "x"' });
    await close(server);
  });

  it('retries a 503 after its Retry-After, then answers', async () => {
    let calls = 0;
    const { url, server } = await serve((_request, response) => {
      calls++;
      if (calls === 1) response.writeHead(503, { 'Retry-After': '0' }).end('busy');
      else response.end('bytes');
    });
    const response = await new HttpClient({ url, retries: 2, backoffMs: 1 }).stream('/file');
    expect(await text(response.body)).toBe('bytes');
    expect(calls).toBe(2);
    await close(server);
  });

  it('reports an unreachable registry as WharfUnavailableError after its retries', async () => {
    const { url, server } = await serve(() => undefined);
    await close(server);
    await expect(new HttpClient({ url, retries: 1, backoffMs: 1 }).stream('/file')).rejects.toBeInstanceOf(WharfUnavailableError);
  });
});

describe('HttpClient.sendBytes', () => {
  async function received(request: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  it('sends the bytes with their Content-Length, the token and the caller’s headers, and answers the JSON reply', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024 + 7, 0xab);
    const { url, server } = await serve((request, response) => {
      void received(request).then((bytes) =>
        response.setHeader('Content-Type', 'application/json').end(
          JSON.stringify({
            method: request.method,
            length: request.headers['content-length'],
            auth: request.headers.authorization,
            sha: request.headers['x-part-sha256'],
            allSent: bytes.equals(body),
          }),
        ),
      );
    });
    const answer = await new HttpClient({ url, token: 'secret' }).sendBytes('PUT', '/part', body, { headers: { 'X-Part-Sha256': 'abc' } });
    expect(answer).toEqual({ method: 'PUT', length: String(body.length), auth: 'Bearer secret', sha: 'abc', allSent: true });
    await close(server);
  });

  it('retries a PUT answered 503 (after Retry-After) and sends the whole body again', async () => {
    const lengths: number[] = [];
    const { url, server } = await serve((request, response) => {
      void received(request).then((bytes) => {
        lengths.push(bytes.length);
        if (lengths.length === 1) response.writeHead(503, { 'Retry-After': '0' }).end('busy');
        else response.end('{"ok":true}');
      });
    });
    expect(await new HttpClient({ url, retries: 2, backoffMs: 1 }).sendBytes('PUT', '/part', Buffer.from('hello'))).toEqual({ ok: true });
    expect(lengths).toEqual([5, 5]);
    await close(server);
  });

  it('does not send a POST again once the server may have acted on it (a 502)', async () => {
    let calls = 0;
    const { url, server } = await serve((request, response) => {
      calls++;
      void received(request).then(() => response.writeHead(502).end('bad gateway'));
    });
    const error = await new HttpClient({ url, retries: 3, backoffMs: 1 }).sendBytes('POST', '/x', Buffer.from('a')).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 502, code: 'http_502' });
    expect(calls).toBe(1);
    await close(server);
  });

  it('turns a problem+json answer into a WharfApiError with its code, without retrying a 4xx', async () => {
    let calls = 0;
    const { url, server } = await serve((request, response) => {
      calls++;
      void received(request).then(() =>
        response
          .writeHead(400, { 'Content-Type': 'application/problem+json' })
          .end(JSON.stringify({ type: 'about:blank', title: 'Bad Request', status: 400, detail: 'Part 1 has sha256 x, not y', code: 'part_digest_mismatch' })),
      );
    });
    const error = await new HttpClient({ url, retries: 3, backoffMs: 1 }).sendBytes('PUT', '/part', Buffer.from('abc')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WharfApiError);
    expect(error).toMatchObject({ status: 400, code: 'part_digest_mismatch', message: 'Part 1 has sha256 x, not y' });
    expect(calls).toBe(1);
    await close(server);
  });

  it('reports an unreachable registry as WharfUnavailableError after its retries', async () => {
    const { url, server } = await serve(() => undefined);
    await close(server);
    await expect(new HttpClient({ url, retries: 1, backoffMs: 1 }).sendBytes('PUT', '/part', Buffer.from('a'))).rejects.toBeInstanceOf(WharfUnavailableError);
  });
});
