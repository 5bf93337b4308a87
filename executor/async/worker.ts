import type { Channel, ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { Agent, IncomingMessage, request } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { ExecutorMetrics } from '../metrics';
import type { Broker } from './broker';
import { safely } from './callbacks';
import { FINAL_STATES, Job, JobResult, JobStore } from './jobs';
import type { PayloadStore } from './payloads';

export interface WorkerOptions {
  upstream: URL;
  agent: Agent;
  inlineLimit: number;
  maxAttempts: number;
  timeoutMs: number;
  callbacksQueue: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

class ModelFailure extends Error {}

/**
 * Takes async requests off the deployment's queue, calls the model, stores the result, and only
 * then acks. A message delivered again (an executor died, RabbitMQ restarted before the ack)
 * finds the result stored and is acked without calling the model; two deliveries racing both
 * call it, but only the first result stored counts (JobStore.finish). A failing call (5xx, no
 * answer) is retried with backoff; after maxAttempts the message is dead-lettered and the status
 * says why.
 */
export class AsyncWorker {
  running = 0;
  private idle?: () => void;

  constructor(
    private readonly jobs: JobStore,
    private readonly payloads: PayloadStore,
    private readonly broker: Broker,
    private readonly options: WorkerOptions,
    private readonly metrics: ExecutorMetrics,
    private readonly logger: Logger,
  ) {}

  /** Resolves when no message is being handled. */
  whenIdle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }

  async onMessage(message: ConsumeMessage, channel: Channel): Promise<void> {
    this.running += 1;
    try {
      await this.handle(message, channel);
    } finally {
      this.running -= 1;
      if (this.running === 0) this.idle?.();
    }
  }

  private async handle(message: ConsumeMessage, channel: Channel): Promise<void> {
    const id = message.properties.messageId as string | undefined;
    if (!id || !UUID.test(id)) {
      this.logger.error({ messageId: id }, 'a message without a job id: dead-lettered');
      safely(() => channel.nack(message, false, false));
      return;
    }
    const attempt = Number(message.properties.headers?.['x-delivery-count'] ?? 0) + 1;
    const job = await this.jobs.claim(id, attempt);
    if (!job) {
      this.logger.warn({ id }, 'a message for an unknown or expired job: dropped');
      safely(() => channel.ack(message));
      return;
    }
    if (FINAL_STATES.has(job.state)) {
      this.metrics.asyncJobs.inc({ outcome: 'duplicate' });
      await this.owedCallback(job);
      safely(() => channel.ack(message));
      return;
    }
    let result: JobResult;
    try {
      result = await this.callModel(job, message.content, attempt);
    } catch (error) {
      await this.failed(job, attempt, (error as Error).message, message, channel);
      return;
    }
    const stored = await this.jobs.finish(id, result);
    if (stored) {
      this.metrics.asyncJobs.inc({ outcome: result.state });
      if (job.bodyKey) await this.payloads.remove(job.bodyKey);
      if (job.callbackUrl) await this.queueCallback(id);
    } else {
      this.metrics.asyncJobs.inc({ outcome: 'duplicate' });
      if (result.key) await this.payloads.remove(result.key);
    }
    safely(() => channel.ack(message));
  }

  private async failed(job: Job, attempt: number, reason: string, message: ConsumeMessage, channel: Channel): Promise<void> {
    this.logger.warn({ id: job.id, attempt, reason }, 'async call failed');
    await this.jobs.noteFailure(job.id, reason);
    if (attempt >= this.options.maxAttempts) {
      const error = `The model server failed ${attempt} times; last: ${reason}`;
      if (await this.jobs.finish(job.id, { state: 'dead_lettered', error })) {
        this.metrics.asyncJobs.inc({ outcome: 'dead_lettered' });
        if (job.callbackUrl) await this.queueCallback(job.id);
      }
      safely(() => channel.nack(message, false, false));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** (attempt - 1))));
    safely(() => channel.nack(message, false, true));
  }

  /** A final job whose callback was never queued (the executor died in between): queue it now. */
  private async owedCallback(job: Job): Promise<void> {
    if (job.callbackUrl && !job.callbackState) await this.queueCallback(job.id);
  }

  private async queueCallback(id: string): Promise<void> {
    await this.broker.publish(this.options.callbacksQueue, Buffer.alloc(0), { messageId: id });
    await this.jobs.setCallbackState(id, 'queued');
  }

  private async callModel(job: Job, inline: Buffer, attempt: number): Promise<JobResult> {
    const body: Readable = job.bodyKey ? await this.payloads.get(job.bodyKey) : Readable.from([inline]);
    const startedAt = performance.now();
    const answer = await new Promise<IncomingMessage>((resolve, reject) => {
      const { upstream, agent, timeoutMs } = this.options;
      const outgoing = request({
        agent,
        hostname: upstream.hostname,
        port: upstream.port,
        method: 'POST',
        path: job.path,
        headers: {
          ...(job.contentType ? { 'content-type': job.contentType } : {}),
          ...(job.bodyKey ? {} : { 'content-length': inline.length }),
          'x-request-id': job.id,
          'x-wharf-client': job.client,
          'x-wharf-async-attempt': String(attempt),
        },
        timeout: timeoutMs,
      });
      outgoing.on('timeout', () => outgoing.destroy(new ModelFailure(`no answer within ${timeoutMs} ms`)));
      outgoing.on('error', (error) => {
        this.metrics.upstreamErrors.inc({ kind: error instanceof ModelFailure ? 'timeout' : 'connect' });
        reject(error);
      });
      outgoing.on('response', resolve);
      body.on('error', (error) => outgoing.destroy(error));
      body.pipe(outgoing);
    });
    this.metrics.upstreamDuration.observe({ mode: 'async' }, (performance.now() - startedAt) / 1000);
    const status = answer.statusCode ?? 502;
    if (status >= 500) {
      this.metrics.upstreamErrors.inc({ kind: 'status_5xx' });
      const text = await readUpTo(answer, 512);
      throw new ModelFailure(`HTTP ${status}${text.length ? `: ${text.toString('utf8').trim()}` : ''}`);
    }
    return this.keepResult(job, answer, status);
  }

  private async keepResult(job: Job, answer: IncomingMessage, status: number): Promise<JobResult> {
    const contentType = answer.headers['content-type'];
    const state = status < 400 ? 'succeeded' : 'failed';
    const head: Buffer[] = [];
    let size = 0;
    const iterator = answer[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return { state, status, contentType, size, body: Buffer.concat(head, size) };
      size += next.value.length;
      head.push(next.value);
      if (size > this.options.inlineLimit) break;
    }
    const key = this.payloads.resultKey(job.id, randomUUID());
    const rest = new PassThrough();
    const upload = this.payloads.put(key, rest, contentType);
    await pipeline(
      (async function* () {
        yield* head;
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
          size += next.value.length;
          yield next.value;
        }
      })(),
      rest,
    );
    await upload;
    return { state, status, contentType, size, key };
  }
}

async function readUpTo(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (size < limit) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, limit);
}
