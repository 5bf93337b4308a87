import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { nameProblem } from '../src/common/validation/names';
import type { Agent } from './agent';
import { parseDuration } from './config';
import type { AgentMetrics } from './metrics';
import type { Lease } from './leases';
import { VersionRef } from './store';

/** Longest a request may block; init containers retry after a 503. */
const MAX_WAIT_MS = 10 * 60_000;
const MAX_LEASE_TTL_MS = 7 * 86_400_000;
const MAX_BODY = 16 * 1024;

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

function send(response: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

function versionRef(project: string, model: string, version: string): VersionRef {
  const problem = nameProblem('project', project) ?? nameProblem('model', model) ?? (/^[1-9][0-9]{0,9}$/.test(version) ? undefined : 'a version is a positive integer');
  if (problem) throw new ApiError(400, 'validation_failed', problem);
  return { project, model, version: Number(version) };
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of request) {
    text += chunk;
    if (text.length > MAX_BODY) throw new ApiError(413, 'payload_too_large', `the body is larger than ${MAX_BODY} bytes`);
  }
  try {
    const body = JSON.parse(text || '{}') as unknown;
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ApiError(400, 'validation_failed', 'the body must be a JSON object');
}

function ttl(raw: unknown): number {
  const value = typeof raw === 'string' ? parseDuration(raw) : typeof raw === 'number' ? raw * 1000 : undefined;
  if (value === undefined || value < 1000 || value > MAX_LEASE_TTL_MS) throw new ApiError(400, 'validation_failed', 'ttl must be a duration between 1s and 7 days (e.g. "10m", or seconds)');
  return value;
}

/**
 * The node-local HTTP API that init containers and pods call:
 *   GET    /v1/versions/{project}/{model}/{version}?wait=60s   ready → 200 with the local path
 *   GET    /v1/versions                                        what the node holds
 *   POST   /v1/leases {project, model, version, holder, ttl}   hold a version (never evicted)
 *   GET    /v1/leases, PUT /v1/leases/{id} {ttl}, DELETE /v1/leases/{id}
 *   GET    /healthz, GET /metrics
 */
export function createAgentApi(agent: Agent, metrics: AgentMetrics): Server {
  const lease = (item: Lease) => ({ ...item, expiresAt: new Date(item.expiresAt).toISOString(), path: agent.store.versionDir(item) });
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://agent');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = request.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/healthz') {
      return send(response, 200, { status: 'ok', registry: agent.heartbeats.failures === 0 ? 'reachable' : 'unreachable', lastHeartbeatAt: agent.heartbeats.lastSuccessAt && new Date(agent.heartbeats.lastSuccessAt).toISOString() });
    }
    if (method === 'GET' && url.pathname === '/metrics') return send(response, 200, await metrics.registry.metrics(), metrics.registry.contentType);
    if (parts[0] === 'v1' && parts[1] === 'versions') return answerVersions(agent, method, parts, url, response);
    if (parts[0] === 'v1' && parts[1] === 'leases') return answerLeases(agent, method, parts, url.pathname, request, response, lease);
    throw new ApiError(404, 'route_not_found', `no route ${method} ${url.pathname}`);
  };
  return createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const problem = error instanceof ApiError ? error : new ApiError(500, 'internal_error', 'the agent failed to answer');
      if (!(error instanceof ApiError)) agent.reportError(error);
      if (response.headersSent) return response.destroy();
      send(response, problem.status, { code: problem.code, status: problem.status, detail: problem.message, ...problem.extra }, 'application/problem+json');
    });
  });
}

/** GET /v1/versions (what the node holds) and GET /v1/versions/{project}/{model}/{version}?wait=… */
async function answerVersions(agent: Agent, method: string, parts: string[], url: URL, response: ServerResponse): Promise<void> {
  const pathname = url.pathname;
  if (method === 'GET' && parts.length === 2) return send(response, 200, { items: agent.snapshot() });
  if (method === 'GET' && parts.length === 5) {
    const ref = versionRef(parts[2], parts[3], parts[4]);
    const wait = url.searchParams.has('wait') ? parseDuration(url.searchParams.get('wait')!) : 0;
    if (wait === undefined || wait > MAX_WAIT_MS) throw new ApiError(400, 'validation_failed', 'wait must be a duration of at most 10m, such as 60s');
    const result = await agent.waitReady(ref, wait);
    if (result.kind === 'rejected') throw new ApiError(404, result.code, result.detail);
    if (result.kind === 'timeout') {
      response.setHeader('Retry-After', '5');
      throw new ApiError(503, 'not_ready', `${ref.project}/${ref.model}@${ref.version} is not ready on this node yet`, { state: result.state, bytesDone: result.bytesDone, bytesTotal: result.bytesTotal });
    }
    const version = result.version;
    return send(response, 200, {
      project: version.project,
      model: version.model,
      version: version.version,
      state: 'ready',
      hit: result.hit,
      path: agent.store.versionDir(version),
      relativePath: path.relative(agent.store.root, agent.store.versionDir(version)),
      manifestDigest: version.manifestDigest,
      bytes: version.bytes,
      files: version.files.map((file) => file.path),
    });
  }
  throw new ApiError(404, 'route_not_found', `no route ${method} ${pathname}`);
}

/** The leases that keep versions from eviction: list, create, renew, release. */
async function answerLeases(
  agent: Agent,
  method: string,
  parts: string[],
  pathname: string,
  request: IncomingMessage,
  response: ServerResponse,
  lease: (item: Lease) => object,
): Promise<void> {
  if (method === 'GET' && parts.length === 2) return send(response, 200, { items: agent.leases.list().map(lease) });
  if (method === 'POST' && parts.length === 2) {
    const body = await readJson(request);
    const ref = versionRef(String(body.project ?? ''), String(body.model ?? ''), String(body.version ?? ''));
    const holder = typeof body.holder === 'string' && body.holder.length <= 253 ? body.holder : '';
    if (!holder) throw new ApiError(400, 'validation_failed', 'holder (the pod, e.g. namespace/name) is required, at most 253 characters');
    const created = await agent.leases.acquire(ref, holder, ttl(body.ttl ?? '10m'));
    agent.reconcile();
    return send(response, 201, lease(created));
  }
  if (parts.length === 3 && (method === 'PUT' || method === 'DELETE')) {
    if (method === 'DELETE') {
      if (!(await agent.leases.release(parts[2]))) throw new ApiError(404, 'lease_not_found', `no lease ${parts[2]}`);
      void agent.evict();
      response.writeHead(204).end();
      return;
    }
    const renewed = await agent.leases.renew(parts[2], ttl((await readJson(request)).ttl ?? '10m'));
    if (!renewed) throw new ApiError(404, 'lease_not_found', `no lease ${parts[2]} (or it expired)`);
    return send(response, 200, lease(renewed));
  }
  throw new ApiError(404, 'route_not_found', `no route ${method} ${pathname}`);
}
