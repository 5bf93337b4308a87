import type { Channel, ConsumeMessage } from 'amqplib';
import type { Agent, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Caller } from '../callers';
import type { ExecutorConfig } from '../config';
import type { ExecutorMetrics } from '../metrics';
import { ExecutorError } from '../problems';
import type { AsyncRoutes } from '../server';
import { Broker } from './broker';
import { CallbackSender, safely } from './callbacks';
import { callbackUrlOf, idempotencyKeyOf, newJobId, readAsyncBody } from './intake';
import { FINAL_STATES, Job, JobStore } from './jobs';
import { PayloadStore } from './payloads';
import { deploymentTopology, Topology } from './topology';
import { AsyncWorker } from './worker';

interface Wiring {
  logger: Logger;
  metrics: ExecutorMetrics;
  upstream: URL;
  agent: Agent;
}

/**
 * The async API: POST /v1/async/<model path> stores the body (inline or S3), records the job,
 * publishes a persistent message with confirms and answers 202; GET /v1/async/<id> tells the
 * status; GET /v1/async/<id>/result gives the model's answer. Also runs this executor's share of
 * the work: the request consumer, the dead-letter watcher and the callback sender.
 */
export class AsyncService implements AsyncRoutes {
  private sweeper?: NodeJS.Timeout;

  private constructor(
    private readonly config: ExecutorConfig,
    private readonly topology: Topology,
    private readonly broker: Broker,
    private readonly jobs: JobStore,
    private readonly payloads: PayloadStore,
    private readonly worker: AsyncWorker,
    private readonly wiring: Wiring,
  ) {}

  static async start(config: ExecutorConfig, wiring: Wiring): Promise<AsyncService> {
    const topology = deploymentTopology(config.DEPLOYMENT, config.ASYNC_MAX_ATTEMPTS);
    const broker = new Broker(config.AMQP_URL!, topology, wiring.logger);
    const jobs = new JobStore(config.REDIS_URL!, config.DEPLOYMENT, config.ASYNC_RESULT_TTL);
    const payloads = new PayloadStore({
      endpoint: config.S3_ENDPOINT!,
      accessKey: config.S3_ACCESS_KEY!,
      secretKey: config.S3_SECRET_KEY!,
      region: config.S3_REGION,
      bucket: config.S3_BUCKET,
      deployment: config.DEPLOYMENT,
    });
    await payloads.init();
    const prefetch = config.ASYNC_CONCURRENCY ?? (config.CONCURRENCY || 64);
    const worker = new AsyncWorker(
      jobs,
      payloads,
      broker,
      { upstream: wiring.upstream, agent: wiring.agent, inlineLimit: config.ASYNC_INLINE_BYTES, maxAttempts: config.ASYNC_MAX_ATTEMPTS, timeoutMs: config.UPSTREAM_TIMEOUT, callbacksQueue: topology.callbacks },
      wiring.metrics,
      wiring.logger,
    );
    const callbacks = new CallbackSender(jobs, { secret: config.CALLBACK_SECRET, maxAttempts: config.CALLBACK_MAX_ATTEMPTS, timeoutMs: config.CALLBACK_TIMEOUT }, wiring.metrics, wiring.logger);
    const service = new AsyncService(config, topology, broker, jobs, payloads, worker, wiring);
    broker.consume({ queue: topology.requests, prefetch, onMessage: (message, channel) => worker.onMessage(message, channel) });
    broker.consume({ queue: topology.deadEvents, prefetch: 16, onMessage: (message, channel) => service.onDeadLetter(message, channel) });
    broker.consume({ queue: topology.callbacks, prefetch: 64, onMessage: (message, channel) => callbacks.onMessage(message, channel) });
    await broker.start();
    service.collectMetrics();
    const sweepEvery = Math.min(config.ASYNC_RESULT_TTL / 4, 600_000);
    service.sweeper = setInterval(() => {
      payloads.sweep(config.ASYNC_RESULT_TTL).catch((error: unknown) => wiring.logger.warn({ err: (error as Error).message }, 'S3 sweep failed'));
    }, sweepEvery).unref();
    return service;
  }

  get runningJobs(): number {
    return this.worker.running;
  }

  async submit(request: IncomingMessage, response: ServerResponse, caller: Caller, path: string): Promise<void> {
    if (request.method !== 'POST') throw new ExecutorError('validation_failed', `Async requests are POSTed; ${request.method} is not supported on /v1/async/…`);
    const idempotencyKey = idempotencyKeyOf(request);
    const callbackUrl = callbackUrlOf(request);
    const id = newJobId();
    const body = await readAsyncBody(request, this.config.ASYNC_INLINE_BYTES, this.config.MAX_REQUEST_BYTES, this.payloads, this.payloads.bodyKey(id));
    if (idempotencyKey) {
      const holder = await this.jobs.claimIdempotencyKey(caller.client, idempotencyKey, id, body.digest);
      if (holder) {
        if (body.key) await this.payloads.remove(body.key);
        if (holder.digest !== body.digest) throw new ExecutorError('idempotency_key_reused', `Idempotency-Key ${JSON.stringify(idempotencyKey)} was used for request ${holder.id} with another body`);
        if (holder.state !== 'queued') throw new ExecutorError('idempotency_key_in_progress', `A request with Idempotency-Key ${JSON.stringify(idempotencyKey)} is being accepted right now; retry shortly`, { 'retry-after': '1' });
        return accepted(response, holder.id, true);
      }
    }
    const contentType = request.headers['content-type'];
    await this.jobs.create({ id, client: caller.client, path, contentType, callbackUrl, bodyKey: body.key });
    try {
      await this.broker.publish(this.topology.requests, body.inline ?? Buffer.alloc(0), { messageId: id, contentType, timestamp: Math.floor(Date.now() / 1000) });
    } catch (error) {
      // Not accepted: the client retries. A message the broker did take without confirming finds
      // the job final and is dropped, so no result appears for a request answered 503.
      await this.jobs.finish(id, { state: 'dead_lettered', error: 'not accepted: the queue did not confirm the message' }).catch(() => undefined);
      if (idempotencyKey) await this.jobs.releaseIdempotencyKey(caller.client, idempotencyKey).catch(() => undefined);
      throw error;
    }
    await this.jobs.markQueued(id);
    if (idempotencyKey) await this.jobs.confirmIdempotencyKey(caller.client, idempotencyKey, id, body.digest);
    accepted(response, id, false);
  }

  async status(request: IncomingMessage, response: ServerResponse, caller: Caller, rest: string): Promise<void> {
    const [id, part] = rest.split('/');
    const job = await this.jobs.get(id);
    // Another client's job is as unknown as a missing one: ids are not a way to probe.
    if (!job || (job.client !== caller.client && !caller.anonymous)) throw new ExecutorError('job_not_found', `No async request ${id} (unknown, expired, or not yours)`);
    if (part === 'result') return this.sendResult(job, response);
    const body = JSON.stringify(statusDocument(job));
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    response.end(body);
  }

  private async sendResult(job: Job, response: ServerResponse): Promise<void> {
    if (job.state === 'dead_lettered') throw new ExecutorError('job_not_found', `Async request ${job.id} has no result: ${job.error ?? 'dead-lettered'}`);
    if (!FINAL_STATES.has(job.state)) {
      response.writeHead(202, { 'content-type': 'application/json', 'retry-after': '1', location: `/v1/async/${job.id}` });
      response.end(JSON.stringify(statusDocument(job)));
      return;
    }
    const headers = { 'content-type': job.resultContentType ?? 'application/octet-stream', 'content-length': String(job.resultSize ?? 0), 'x-wharf-async-id': job.id };
    if (job.resultBody) {
      response.writeHead(job.resultStatus ?? 200, headers);
      response.end(job.resultBody);
      return;
    }
    const stream = await this.payloads.get(job.resultKey!);
    response.writeHead(job.resultStatus ?? 200, headers);
    stream.pipe(response);
    stream.on('error', () => response.destroy());
  }

  /** A message the broker dead-lettered: make sure the job's status says so, and why. */
  private async onDeadLetter(message: ConsumeMessage, channel: Channel): Promise<void> {
    const id = message.properties.messageId as string | undefined;
    const headers = message.properties.headers ?? {};
    const reason = String(headers['x-first-death-reason'] ?? 'unknown');
    if (id) {
      const job = await this.jobs.get(id);
      if (job && !FINAL_STATES.has(job.state)) {
        const error =
          reason === 'delivery_limit'
            ? `Delivered ${job.attempts} times without a result (the executor handling it stopped each time)${job.error ? `; last error: ${job.error}` : ''}`
            : `Dead-lettered (${reason})${job.error ? `: ${job.error}` : ''}`;
        if (await this.jobs.finish(id, { state: 'dead_lettered', error })) this.wiring.metrics.asyncJobs.inc({ outcome: 'dead_lettered' });
      }
    }
    safely(() => channel.ack(message));
  }

  private collectMetrics(): void {
    const { sources } = this.wiring.metrics;
    sources.asyncQueueDepth = () => this.broker.depth(this.topology.requests);
    sources.asyncPending = () => this.jobs.pending();
  }

  /** Stops taking messages and waits for the ones in hand to be stored and acked. */
  async drain(): Promise<void> {
    await this.broker.stopConsuming();
    await this.worker.whenIdle();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.broker.close();
    await this.jobs.close();
  }
}

function accepted(response: ServerResponse, id: string, replayed: boolean): void {
  const statusUrl = `/v1/async/${id}`;
  const body = JSON.stringify({ id, status: 'queued', statusUrl, resultUrl: `${statusUrl}/result`, ...(replayed ? { replayed: true } : {}) });
  response.writeHead(202, { 'content-type': 'application/json', location: statusUrl, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) });
  response.end(body);
}

function statusDocument(job: Job): Record<string, unknown> {
  return {
    id: job.id,
    // Nobody holds an id still being accepted (202 comes after the confirm); shown as queued.
    status: job.state === 'accepting' ? 'queued' : job.state,
    createdAt: new Date(job.createdAt).toISOString(),
    updatedAt: new Date(job.updatedAt).toISOString(),
    attempts: job.attempts,
    ...(job.error ? { error: job.error } : {}),
    ...(job.resultStatus !== undefined
      ? { result: { status: job.resultStatus, contentType: job.resultContentType ?? null, size: job.resultSize ?? 0, url: `/v1/async/${job.id}/result` } }
      : {}),
    ...(job.callbackUrl ? { callback: { url: job.callbackUrl, state: job.callbackState ?? 'pending' } } : {}),
  };
}
