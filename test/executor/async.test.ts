import amqp from 'amqplib';
import { createHash, randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/events/signature';
import { JobStore } from '../../executor/async/jobs';
import { redisAvailable, startTestRedis, TestRedis } from '../support/redis';
import { externalS3, startS3rver, S3Target } from '../support/s3';
import { eventually, ExecutorProcess, startExecutorProcess } from './executor-process';
import { ModelServer, startModelServer } from './model-server';
import { rabbitAvailable, startOwnRabbit, TestRabbit } from './rabbitmq';

/** Scaled down from the 10,000 to keep this file near a minute; `npm run bench:executor` runs 10,000. */
const REQUESTS = Number(process.env.EXECUTOR_ASYNC_REQUESTS ?? 600);
const CALLBACK_SECRET = 'callback-secret-0123456789abcdef';
const INLINE = 64 * 1024;

jest.setTimeout(300_000);

interface Accepted {
  id: string;
  body: Buffer;
}

const json = async (response: Response) => ({ status: response.status, body: (await response.json()) as Record<string, unknown> });

/** The i-th request's body: every hundredth is 200 KiB (above the inline threshold: it goes through S3). */
function bodyOf(i: number): Buffer {
  if (i % 100 === 7) return Buffer.alloc(200 * 1024, `large request ${i} `);
  return Buffer.from(JSON.stringify({ inputs: [i, i * 2, i * 3] }));
}

// Needs a RabbitMQ node and a Redis server of this machine (CI has both: test/services/up.sh).
const describeWithServices = rabbitAvailable() && redisAvailable() ? describe : describe.skip;

describeWithServices('executor async requests (real RabbitMQ, Redis, S3, processes)', () => {
  let rabbit: TestRabbit;
  let redis: TestRedis;
  let s3: S3Target | { endpoint: string; accessKey: string; secretKey: string; close?: () => Promise<void> };
  let model: ModelServer;
  const executors: ExecutorProcess[] = [];
  const deployment = `async-${randomUUID().slice(0, 8)}`;
  const bucket = `wharf-executor-test-${randomUUID().slice(0, 8)}`;

  const startOne = () =>
    startExecutorProcess({
      UPSTREAM_URL: model.url,
      ALLOW_ANONYMOUS: 'true',
      SHUTDOWN_DELAY: '0s',
      LOG_LEVEL: 'warn',
      DEPLOYMENT: deployment,
      AMQP_URL: rabbit.url,
      REDIS_URL: redis.url,
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_BUCKET: bucket,
      ASYNC_INLINE_BYTES: String(INLINE),
      ASYNC_MAX_ATTEMPTS: '3',
      ASYNC_CONCURRENCY: '16',
      CALLBACK_SECRET,
    }).then((executor) => {
      executors.push(executor);
      return executor;
    });

  beforeAll(async () => {
    [rabbit, redis, model] = await Promise.all([startOwnRabbit(), startTestRedis(), startModelServer()]);
    s3 = externalS3() ?? (await startS3rver());
  }, 600_000);
  afterAll(async () => {
    await Promise.all(executors.map((executor) => executor.stop()));
    await Promise.all([rabbit?.close(), redis?.close(), model?.close(), (s3 as S3Target | undefined)?.close?.()]);
  });

  it('gives every accepted request exactly one result while an executor is killed -9 and RabbitMQ restarts', async () => {
    const [a, b] = await Promise.all([startOne(), startOne()]);
    const alive = new Set([a, b]);
    const accepted = new Map<number, Accepted>();
    let next = 0;
    // One client loop per lane: retries (same Idempotency-Key) until the request is accepted.
    const submit = async (i: number) => {
      const body = bodyOf(i);
      for (let attempt = 0; ; attempt += 1) {
        const target = [...alive][(i + attempt) % alive.size];
        try {
          const response = await fetch(`${target.url}/v1/async/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': `request-${i}` },
            body,
          });
          if (response.status === 202) {
            const { id } = (await response.json()) as { id: string };
            accepted.set(i, { id, body });
            return;
          }
          await response.body?.cancel();
          expect([503, 409]).toContain(response.status); // queue reconnecting, or a claim in progress
        } catch {
          // connection refused or reset: that executor was killed
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** Math.min(attempt, 5))));
      }
    };
    const lanes = Array.from({ length: 24 }, async () => {
      while (next < REQUESTS) await submit(next++);
    });
    await eventually(() => accepted.size >= REQUESTS * 0.3, 120_000, '30% accepted');
    alive.delete(a);
    a.signal('SIGKILL');
    await eventually(() => accepted.size >= REQUESTS * 0.5, 120_000, '50% accepted');
    await rabbit.restart();
    await Promise.all(lanes);
    expect(accepted.size).toBe(REQUESTS);
    expect(new Set([...accepted.values()].map((entry) => entry.id)).size).toBe(REQUESTS);

    // Every accepted request finishes, with the result of its own body.
    const results = new Map<string, string>();
    await eventually(
      async () => {
        for (const { id, body } of accepted.values()) {
          if (results.has(id)) continue;
          const status = await json(await fetch(`${b.url}/v1/async/${id}`));
          if (status.body.status !== 'succeeded') return false;
          const result = await fetch(`${b.url}/v1/async/${id}/result`);
          const bytes = Buffer.from(await result.arrayBuffer());
          const digest = createHash('sha256').update(body).digest('hex');
          if (body.length > INLINE) expect(bytes.subarray(0, 64).toString()).toBe(digest);
          else expect(JSON.parse(bytes.toString())).toMatchObject({ digest, bytes: body.length });
          results.set(id, createHash('sha256').update(bytes).digest('hex'));
        }
        return true;
      },
      180_000,
      'every accepted request to succeed',
    );
    // Redeliveries happened (the killed executor's unacked messages), and none replaced a stored result.
    const calledTwice = [...accepted.values()].filter(({ id }) => (model.predictions.get(id) ?? 0) > 1).length;
    process.stdout.write(`async: ${REQUESTS} accepted, ${calledTwice} model calls repeated by redelivery\n`);
    const connection = await amqp.connect(rabbit.url);
    const channel = await connection.createChannel();
    await eventually(async () => (await channel.checkQueue(`wharf.executor.${deployment}`)).messageCount === 0, 60_000, 'the queue to drain');
    await connection.close();
    for (const { id } of accepted.values()) {
      const again = Buffer.from(await (await fetch(`${b.url}/v1/async/${id}/result`)).arrayBuffer());
      expect(createHash('sha256').update(again).digest('hex')).toBe(results.get(id));
    }
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toMatch(/wharf_executor_async_pending 0/);
    expect(metrics).toMatch(/wharf_executor_async_queue_depth 0/);
  });

  it('replays a request with the same Idempotency-Key and refuses the key with another body', async () => {
    const executor = executors.find((candidate) => candidate.child.exitCode === null && candidate.child.signalCode === null)!;
    await brokerReconnected(executor);
    const post = (body: string) => fetch(`${executor.url}/v1/async/predict`, { method: 'POST', headers: { 'idempotency-key': 'same-key' }, body });
    const first = await json(await post('{"x":1}'));
    const replay = await json(await post('{"x":1}'));
    expect(first.status).toBe(202);
    expect(replay).toMatchObject({ status: 202, body: { id: first.body.id, replayed: true } });
    const other = await json(await post('{"x":2}'));
    expect(other).toMatchObject({ status: 409, body: { code: 'idempotency_key_reused' } });
  });

  it('delivers a signed callback, retrying while the receiver fails', async () => {
    const executor = executors.find((candidate) => candidate.child.exitCode === null && candidate.child.signalCode === null)!;
    const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
    const receiver: Server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(received.length === 1 ? 500 : 204).end(); // the first delivery fails
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    await brokerReconnected(executor);
    const submitted = await json(await fetch(`${executor.url}/v1/async/predict`, { method: 'POST', headers: { 'x-callback-url': callbackUrl }, body: '{"callback":true}' }));
    expect(submitted.status).toBe(202);
    await eventually(() => received.length >= 2, 60_000, 'the callback to be retried');
    for (const delivery of received) {
      expect(verifySignature(CALLBACK_SECRET, delivery.headers['wharf-signature'] as string, delivery.body)).toBe(true);
      expect(verifySignature('another-secret-0123456789', delivery.headers['wharf-signature'] as string, delivery.body)).toBe(false);
    }
    expect(JSON.parse(received[1].body)).toMatchObject({ id: submitted.body.id, status: 'succeeded', result: { status: 200, contentType: 'application/json' } });
    await eventually(async () => (await json(await fetch(`${executor.url}/v1/async/${submitted.body.id as string}`))).body.callback, 10_000, 'callback state');
    const status = await json(await fetch(`${executor.url}/v1/async/${submitted.body.id as string}`));
    expect(status.body.callback).toEqual({ url: callbackUrl, state: 'delivered' });
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('dead-letters a poison message after its attempts, with a status that says why', async () => {
    const executor = executors.find((candidate) => candidate.child.exitCode === null && candidate.child.signalCode === null)!;
    const submitted = await json(await fetch(`${executor.url}/v1/async/predict`, { method: 'POST', body: 'poison pill' }));
    const id = submitted.body.id as string;
    const status = await eventually(
      async () => {
        const current = await json(await fetch(`${executor.url}/v1/async/${id}`));
        return current.body.status === 'dead_lettered' ? current.body : undefined;
      },
      60_000,
      'the poison message to be dead-lettered',
    );
    expect(status).toMatchObject({ status: 'dead_lettered', attempts: 3 });
    expect(status.error).toMatch(/failed 3 times; last: HTTP 500: cannot digest this input/);
    expect(model.predictions.get(id)).toBe(3);
    const result = await fetch(`${executor.url}/v1/async/${id}/result`);
    expect(result.status).toBe(404);
    const connection = await amqp.connect(rabbit.url);
    const channel = await connection.createChannel();
    const dead = await eventually(async () => (await channel.get(`wharf.executor.${deployment}.dlq`, { noAck: true })) || undefined, 30_000, 'the message in the DLQ');
    expect(dead.properties.messageId).toBe(id);
    expect(dead.content.toString()).toBe('poison pill');
    await connection.close();
  });

  it('refuses a status request for an unknown id with 404 problem+json', async () => {
    const executor = executors.find((candidate) => candidate.child.exitCode === null && candidate.child.signalCode === null)!;
    const unknown = await fetch(`${executor.url}/v1/async/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    expect(((await unknown.json()) as { code: string }).code).toBe('job_not_found');
    expect((await fetch(`${executor.url}/v1/async/not-an-id`)).status).toBe(404);
  });

  it('forgets a result after its expiry', async () => {
    const store = new JobStore(redis.url, `${deployment}-expiry`, 1000);
    const id = randomUUID();
    await store.create({ id, client: 'anonymous:x', path: '/p' });
    expect(await store.finish(id, { state: 'succeeded', status: 200, size: 2, body: Buffer.from('ok') })).toBe(true);
    expect(await store.finish(id, { state: 'succeeded', status: 200, size: 5, body: Buffer.from('other') })).toBe(false);
    expect((await store.get(id))?.resultBody?.toString()).toBe('ok');
    await eventually(async () => (await store.get(id)) === null, 10_000, 'the result to expire');
    await store.close();
  });
});

/**
 * The first test restarts RabbitMQ: until an executor has reconnected its publisher it answers
 * submissions 503 (as it should; clients retry). Later tests wait for an accepted submission first.
 */
async function brokerReconnected(executor: ExecutorProcess): Promise<void> {
  await eventually(async () => (await fetch(`${executor.url}/v1/async/predict`, { method: 'POST', body: '{"probe":true}' })).status === 202, 60_000, 'the executor to accept async requests again');
}
