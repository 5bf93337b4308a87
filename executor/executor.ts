import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { Logger } from 'pino';
import { CallerCheck } from './callers';
import type { ExecutorConfig } from './config';
import { ConcurrencyLimiter } from './limiter';
import { createExecutorMetrics } from './metrics';
import { SyncProxy } from './proxy';
import { ClientRateLimiter } from './rate-limit';
import { Readiness } from './readiness';
import { createExecutorServer } from './server';

export interface RunningExecutor {
  server: Server;
  port: number;
  logger: Logger;
  /** Readiness fails, in-flight requests and async jobs finish, then everything closes. */
  drain(): Promise<void>;
}

export function createExecutorLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'wharf-executor' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['headers.authorization', 'token'], censor: '****' },
  });
}

/** Wires the parts from the configuration and starts listening. */
export async function startExecutor(config: ExecutorConfig, logger = createExecutorLogger(config.LOG_LEVEL)): Promise<RunningExecutor> {
  const metrics = createExecutorMetrics();
  const upstream = new URL(config.UPSTREAM_URL);
  const readiness = new Readiness(new URL(config.UPSTREAM_READINESS_PATH, upstream), config.READINESS_INTERVAL);
  readiness.onChange((ready) => logger.info({ ready }, ready ? 'ready: the model server answers its readiness probe' : 'not ready'));
  const limiter = new ConcurrencyLimiter(config.CONCURRENCY, config.QUEUE_DEPTH, config.QUEUE_TIMEOUT);
  const proxy = new SyncProxy(
    { upstream, maxSockets: config.UPSTREAM_MAX_SOCKETS, headersTimeoutMs: config.UPSTREAM_TIMEOUT, idleTimeoutMs: config.IDLE_TIMEOUT, maxRequestBytes: config.MAX_REQUEST_BYTES },
    metrics,
  );
  const callers = new CallerCheck({
    registryUrl: config.REGISTRY_URL,
    reviewerToken: config.REGISTRY_TOKENREVIEW_TOKEN,
    project: config.PROJECT,
    cacheTtlMs: config.TOKEN_CACHE_TTL,
    allowAnonymous: config.ALLOW_ANONYMOUS,
  });
  const rateLimiter = config.RATE_LIMIT ? new ClientRateLimiter(config.RATE_LIMIT) : null;
  // Loaded only when async is on: a sync-only sidecar does not carry amqplib, ioredis and minio.
  const asyncService = config.AMQP_URL ? await (await import('./async/async-service')).AsyncService.start(config, { logger, metrics, upstream, agent: proxy.agent }) : null;
  const server = createExecutorServer({ config, logger, metrics, readiness, limiter, proxy, callers, rateLimiter, asyncRoutes: asyncService });
  readiness.start();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.EXECUTOR_PORT, config.EXECUTOR_HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, upstream: config.UPSTREAM_URL, deployment: config.DEPLOYMENT, async: Boolean(asyncService) }, 'wharf executor listening');

  let draining: Promise<void> | undefined;
  const drain = () =>
    (draining ??= (async () => {
      readiness.drain();
      logger.info({ inFlight: limiter.inFlight, waiting: limiter.waiting, shutdownDelayMs: config.SHUTDOWN_DELAY }, 'draining: readiness fails; serving on while endpoints update');
      await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DELAY));
      logger.info({ inFlight: limiter.inFlight, waiting: limiter.waiting }, 'closing the listener; in-flight requests finish');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = setTimeout(() => server.closeAllConnections(), config.DRAIN_TIMEOUT);
      await Promise.all([closed, asyncService?.drain()]);
      clearTimeout(deadline);
      await asyncService?.close();
      proxy.agent.destroy();
      logger.info('drained');
    })());
  return { server, port, logger, drain };
}
