import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in model server on a real loopback port, with the behaviours the executor must cope
 * with: a readiness probe that can fail, an echo that hashes a body of any size as it streams,
 * an SSE stream written when the test says so, requests that hang until released, failures.
 */
export interface ModelServer {
  url: string;
  port: number;
  server: Server;
  ready: boolean;
  /** Requests seen per path (without the query). */
  seen: Map<string, number>;
  /** Requests to /hold waiting to be answered: release() answers them all. */
  held: ServerResponse[];
  release(): void;
  /** The open /sse response; write events to it from the test. */
  sse?: ServerResponse;
  /** Bodies /predict received, by x-request-id header (async tests count them). */
  predictions: Map<string, number>;
  close(): Promise<void>;
}

export async function startModelServer(port = 0): Promise<ModelServer> {
  const model: ModelServer = {
    url: '',
    port: 0,
    server: undefined as unknown as Server,
    ready: true,
    seen: new Map(),
    held: [],
    predictions: new Map(),
    release() {
      for (const response of model.held.splice(0)) response.end('released');
    },
    close: async () => {
      model.release();
      model.sse?.end();
      model.server.closeAllConnections();
      await new Promise((resolve) => model.server.close(resolve));
    },
  };
  model.server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    model.seen.set(path, (model.seen.get(path) ?? 0) + 1);
    route(model, path, request, response);
  });
  await new Promise<void>((resolve) => model.server.listen(port, '127.0.0.1', resolve));
  model.port = (model.server.address() as AddressInfo).port;
  model.url = `http://127.0.0.1:${model.port}`;
  return model;
}

function route(model: ModelServer, path: string, request: IncomingMessage, response: ServerResponse): void {
  switch (path) {
    case '/healthz':
      response.writeHead(model.ready ? 200 : 503).end();
      return;
    case '/echo-digest': {
      const hash = createHash('sha256');
      let bytes = 0;
      request.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes, sha256: hash.digest('hex') })));
      return;
    }
    case '/sse':
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      response.flushHeaders();
      model.sse = response;
      return;
    case '/hold':
      request.resume();
      request.on('end', () => model.held.push(response));
      return;
    case '/predict': {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        const id = String(request.headers['x-request-id'] ?? '');
        model.predictions.set(id, (model.predictions.get(id) ?? 0) + 1);
        if (body.toString('utf8', 0, 6) === 'poison') {
          response.writeHead(500, { 'content-type': 'text/plain' }).end('cannot digest this input');
          return;
        }
        // The answer depends only on the input: two calls for one request give the same result.
        const digest = createHash('sha256').update(body).digest('hex');
        if (body.length > 100_000) {
          response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.concat([Buffer.from(digest), body]));
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ digest, bytes: body.length }));
      });
      return;
    }
    default:
      request.resume();
      response.writeHead(200, { 'content-type': 'text/plain' }).end(`ok ${request.method} ${request.url}`);
  }
}
