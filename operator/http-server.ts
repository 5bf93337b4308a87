// The operator's plain HTTP server: registry event deliveries, health and metrics.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { SIGNATURE_HEADER, verifySignature } from '../src/events/signature';
import type { OperatorMetrics } from './metrics';

export interface RegistryEvent {
  type: string;
  project: string;
  data: { model?: string; endpoint?: string };
}

export interface HttpServerDeps {
  metrics: OperatorMetrics;
  /** The secret our registry subscriptions sign with. */
  eventsSecret: string;
  onRegistryEvent(event: RegistryEvent): void;
  ready(): boolean;
}

const MAX_BODY = 1024 * 1024;

export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('body over 1 MiB'), { status: 413 }));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export function createHttpServer(deps: HttpServerDeps): Server {
  return createServer((request, response) => {
    void handle(deps, request, response).catch((error: Error & { status?: number }) => {
      if (!response.headersSent) sendJson(response, error.status ?? 500, { code: 'request_failed', detail: error.message });
    });
  });
}

async function handle(deps: HttpServerDeps, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://operator').pathname;
  if (request.method === 'GET' && path === '/healthz') return sendJson(response, 200, { status: 'ok' });
  if (request.method === 'GET' && path === '/readyz') return sendJson(response, deps.ready() ? 200 : 503, { ready: deps.ready() });
  if (request.method === 'GET' && path === '/metrics') {
    response.writeHead(200, { 'content-type': deps.metrics.registry.contentType }).end(await deps.metrics.registry.metrics());
    return;
  }
  if (request.method === 'POST' && path === '/events') {
    const body = await readBody(request);
    const header = request.headers[SIGNATURE_HEADER.toLowerCase()];
    if (!verifySignature(deps.eventsSecret, Array.isArray(header) ? header[0] : header, body)) {
      deps.metrics.registryEvents.inc({ result: 'bad_signature' });
      return sendJson(response, 401, { code: 'bad_signature', detail: `${SIGNATURE_HEADER} does not verify with this operator's subscription secret` });
    }
    const event = JSON.parse(body) as RegistryEvent;
    deps.metrics.registryEvents.inc({ result: 'accepted' });
    deps.onRegistryEvent(event);
    response.writeHead(204).end();
    return;
  }
  sendJson(response, 404, { code: 'route_not_found', detail: `no route ${request.method} ${path}` });
}
