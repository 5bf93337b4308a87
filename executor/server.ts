import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Caller, CallerCheck } from './callers';
import type { ExecutorConfig } from './config';
import type { ConcurrencyLimiter } from './limiter';
import type { ExecutorMetrics } from './metrics';
import { ExecutorError, executorProblem, sendProblem } from './problems';
import type { SyncProxy } from './proxy';
import type { ClientRateLimiter } from './rate-limit';
import type { Readiness } from './readiness';

/** The async API as the server sees it (async/async-api.ts); absent when AMQP_URL is unset. */
export interface AsyncRoutes {
  submit(request: IncomingMessage, response: ServerResponse, caller: Caller, path: string): Promise<void>;
  /** `rest` is `<id>` or `<id>/result`. */
  status(request: IncomingMessage, response: ServerResponse, caller: Caller, rest: string): Promise<void>;
  readonly runningJobs: number;
}

export interface ServerParts {
  config: ExecutorConfig;
  logger: Logger;
  metrics: ExecutorMetrics;
  readiness: Readiness;
  limiter: ConcurrencyLimiter;
  proxy: SyncProxy;
  callers: CallerCheck;
  rateLimiter: ClientRateLimiter | null;
  asyncRoutes: AsyncRoutes | null;
}

type Route = 'proxy' | 'async_submit' | 'async_status' | 'probe' | 'metrics';

const ASYNC_PREFIX = '/v1/async/';
const JOB_PATH = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\/result)?$/;

function routeOf(request: IncomingMessage): Route {
  const url = request.url ?? '/';
  if (url === '/healthz' || url === '/readyz') return 'probe';
  if (url === '/metrics') return 'metrics';
  if (url.startsWith(ASYNC_PREFIX)) return request.method === 'GET' ? 'async_status' : 'async_submit';
  return 'proxy';
}

/**
 * The executor's HTTP front: probes and metrics, then for every other request the caller check,
 * the per-client limit, and either the async API or the sync proxy under the concurrency limit.
 * Plain node:http; each request is a handful of function calls before its bytes flow.
 */
export function createExecutorServer(parts: ServerParts): Server {
  const { config, logger, metrics, readiness, limiter } = parts;
  const server = createServer({ requestTimeout: 0, headersTimeout: 30_000, keepAliveTimeout: 65_000 }, (request, response) => {
    const startedAt = performance.now();
    const route = routeOf(request);
    const requestId = (request.headers['x-request-id'] as string | undefined) ?? randomUUID();
    let client = '-';
    response.setHeader('x-request-id', requestId);
    if (readiness.isDraining) response.setHeader('connection', 'close');
    response.on('close', () => {
      const seconds = (performance.now() - startedAt) / 1000;
      const code = response.headersSent ? String(response.statusCode) : 'aborted';
      metrics.requests.inc({ route, code });
      metrics.requestDuration.observe({ route }, seconds);
      if (route !== 'probe' && route !== 'metrics' ? true : config.LOG_PROBES || response.statusCode >= 300) {
        logger.info(
          { requestId, method: request.method, url: request.url, route, status: code, ms: Math.round(seconds * 1e4) / 10, client, bytesIn: request.socket.bytesRead, complete: response.writableFinished },
          'request',
        );
      }
    });
    handle(parts, route, request, response, (caller) => (client = caller)).catch((error: unknown) => {
      if (error instanceof ExecutorError) {
        if (error.code !== 'internal_error') metrics.refused.inc({ reason: error.code });
        sendProblem(response, executorProblem(error.code, error.detail, { requestId }), error.headers);
      } else {
        logger.error({ err: error, requestId }, 'request failed');
        sendProblem(response, executorProblem('internal_error', 'The executor failed on this request', { requestId }));
      }
      // An unread body must not be parsed as the next request of a keep-alive connection.
      if (!request.readableEnded) response.once('finish', () => request.socket.destroySoon());
    });
  });
  metrics.concurrencyLimit.set(config.CONCURRENCY);
  metrics.sources.inFlight = () => limiter.inFlight + (parts.asyncRoutes?.runningJobs ?? 0);
  metrics.sources.waiting = () => limiter.waiting;
  metrics.sources.ready = () => readiness.ready;
  return server;
}

async function handle(parts: ServerParts, route: Route, request: IncomingMessage, response: ServerResponse, named: (client: string) => void): Promise<void> {
  const { config, metrics, readiness, limiter, proxy, callers, rateLimiter, asyncRoutes } = parts;
  const url = request.url ?? '/';
  if (route === 'probe') return probe(url === '/healthz' || readiness.ready, response, readiness);
  if (route === 'metrics') {
    const text = await metrics.registry.metrics();
    response.writeHead(200, { 'content-type': metrics.registry.contentType });
    response.end(text);
    return;
  }
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > config.MAX_REQUEST_BYTES) {
    throw new ExecutorError('payload_too_large', `The request body (${declared} bytes) is larger than the ${config.MAX_REQUEST_BYTES} bytes this deployment accepts`);
  }
  const caller = await callers.identify(request);
  named(caller.client);
  const decision = rateLimiter?.take(caller.client);
  if (decision && !decision.allowed) {
    throw new ExecutorError('rate_limited', `${caller.client} is over its limit of requests; retry in ${decision.retryAfterSeconds} s`, { 'retry-after': String(decision.retryAfterSeconds) });
  }
  if (route === 'async_submit' || route === 'async_status') {
    if (!asyncRoutes) throw new ExecutorError('async_disabled', 'This executor has no queue configured (AMQP_URL), so it serves synchronous requests only');
    const rest = url.slice(ASYNC_PREFIX.length).split('?')[0];
    if (route === 'async_submit') return asyncRoutes.submit(request, response, caller, `/${rest}${url.includes('?') ? url.slice(url.indexOf('?')) : ''}`);
    if (!JOB_PATH.test(rest)) throw new ExecutorError('job_not_found', `No async request ${JSON.stringify(rest)}: ids are UUIDs as the 202 answer gave them`);
    return asyncRoutes.status(request, response, caller, rest);
  }
  // A model that is not ready still gets the request: readiness takes the pod out of the
  // Service; a request that arrives anyway is answered by the model or with 502.
  // Only a request that has to wait pays for a way to give up its place when the caller leaves.
  const slot = await limiter.acquire((cancel) => request.once('close', cancel));
  if (!slot.ok) {
    if (slot.reason === 'cancelled') return;
    if (slot.reason === 'queue_full') {
      throw new ExecutorError('overloaded', `All ${config.CONCURRENCY} slots are busy and ${config.QUEUE_DEPTH} requests already wait`, { 'retry-after': '1' });
    }
    throw new ExecutorError('queue_timeout', `No slot came free within ${config.QUEUE_TIMEOUT} ms`, { 'retry-after': '1' });
  }
  try {
    await proxy.forward(request, response, {
      'x-forwarded-for': forwardedFor(request),
      'x-forwarded-proto': 'http',
      'x-request-id': String(response.getHeader('x-request-id')),
      'x-wharf-client': caller.client,
    });
  } finally {
    slot.release();
  }
}

function forwardedFor(request: IncomingMessage): string {
  const previous = request.headers['x-forwarded-for'];
  const address = request.socket.remoteAddress ?? '';
  return previous ? `${String(previous)}, ${address}` : address;
}

function probe(ok: boolean, response: ServerResponse, readiness: Readiness): void {
  const body = JSON.stringify({ status: ok ? 'ok' : 'unavailable', model: readiness.modelReady ? 'ready' : 'not_ready', draining: readiness.isDraining });
  response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(body);
}
