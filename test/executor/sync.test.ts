import { createHash } from 'node:crypto';
import { Agent, IncomingMessage, request } from 'node:http';
import { Readable } from 'node:stream';
import { freePort } from '../support/ports';
import { buildIfStale, eventually, ExecutorProcess, startExecutorProcess } from './executor-process';
import { ModelServer, startModelServer } from './model-server';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

function call(url: string, options: { method?: string; body?: Readable | string; headers?: Record<string, string | number>; agent?: Agent } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    if (options.body instanceof Readable) options.body.pipe(outgoing);
    else outgoing.end(options.body);
  });
}

/** `total` bytes of a deterministic pattern, produced as it is read (never held whole). */
function generatedBody(total: number, hash: ReturnType<typeof createHash>): Readable {
  const block = Buffer.alloc(MIB);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const size = Math.min(MIB, total - sent);
      block.writeUInt32BE(sent / MIB, 0); // every MiB differs, so a reordered or repeated block shows in the digest
      const chunk = Buffer.from(block.subarray(0, size));
      hash.update(chunk);
      sent += size;
      this.push(chunk);
    },
  });
}

jest.setTimeout(120_000);

describe('executor sync proxy (real processes, real HTTP)', () => {
  let model: ModelServer;
  let executor: ExecutorProcess | undefined;

  beforeAll(async () => {
    model = await startModelServer();
  });
  afterEach(async () => {
    await executor?.stop();
    executor = undefined;
    model.release();
  });
  afterAll(async () => {
    await model.close();
  });

  const start = async (env: Record<string, string> = {}, compiled = false) => {
    executor = await startExecutorProcess({ UPSTREAM_URL: model.url, ALLOW_ANONYMOUS: 'true', SHUTDOWN_DELAY: '0s', ...env }, { compiled });
    return executor;
  };

  it('streams a 1 GiB request body through while its own memory stays under 150 MiB', async () => {
    // Measured on the compiled executor, as the image runs it (swc's compiler alone takes ~60 MiB).
    buildIfStale();
    const proxy = await start({ MAX_REQUEST_BYTES: '2Gi' }, true);
    const sent = createHash('sha256');
    let peak = proxy.rss();
    const sampler = setInterval(() => (peak = Math.max(peak, proxy.rss())), 50);
    const answer = await call(`${proxy.url}/echo-digest`, { method: 'POST', body: generatedBody(GIB, sent), headers: { 'content-length': GIB } });
    clearInterval(sampler);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ bytes: GIB, sha256: sent.digest('hex') });
    process.stdout.write(`executor peak RSS passing 1 GiB: ${(peak / MIB).toFixed(1)} MiB\n`);
    expect(peak).toBeLessThan(150 * MIB);
  }, 240_000);

  it('forwards each server-sent event as the model writes it, headers first', async () => {
    const proxy = await start();
    const startedAt = performance.now();
    const events: string[] = [];
    let onChunk: (() => void) | undefined;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      request(`${proxy.url}/sse`, { agent: false }, resolve).on('error', reject).end();
    });
    const firstByteMs = performance.now() - startedAt;
    expect(response.headers['content-type']).toBe('text/event-stream');
    response.on('data', (chunk: Buffer) => {
      events.push(chunk.toString('utf8'));
      onChunk?.();
    });
    // Each event must reach the caller before the model writes the next one: nothing is buffered.
    for (let i = 1; i <= 5; i += 1) {
      const arrived = new Promise<void>((resolve) => (onChunk = resolve));
      await eventually(() => model.sse !== undefined, 5000, 'the model to open the stream');
      model.sse!.write(`data: token ${i}\n\n`);
      await arrived;
      expect(events.join('')).toContain(`data: token ${i}\n\n`);
    }
    model.sse!.end();
    model.sse = undefined;
    await new Promise((resolve) => response.on('end', resolve));
    process.stdout.write(`SSE time to first byte through the executor: ${firstByteMs.toFixed(1)} ms\n`);
  });

  it('answers 502 problem+json when the model server is down', async () => {
    const proxy = await start({ UPSTREAM_URL: `http://127.0.0.1:${await freePort()}` });
    const answer = await call(`${proxy.url}/v1/predict`, { method: 'POST', body: '{}' });
    expect(answer.status).toBe(502);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(answer.body)).toMatchObject({ type: 'urn:wharf:problem:upstream_unavailable', code: 'upstream_unavailable', status: 502 });
    const ready = await call(`${proxy.url}/readyz`);
    expect(ready.status).toBe(503);
  });

  it('refuses a body over MAX_REQUEST_BYTES with 413 before the model sees it', async () => {
    const proxy = await start({ MAX_REQUEST_BYTES: '1Ki' });
    const before = model.seen.get('/echo-digest') ?? 0;
    const declared = await call(`${proxy.url}/echo-digest`, { method: 'POST', body: 'x'.repeat(2048) });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toMatchObject({ code: 'payload_too_large' });
    expect(model.seen.get('/echo-digest') ?? 0).toBe(before);
    // Chunked: no length up front, so the limit is counted as the bytes stream.
    const chunked = await call(`${proxy.url}/echo-digest`, { method: 'POST', body: Readable.from([Buffer.alloc(800), Buffer.alloc(800)]) });
    expect(chunked.status).toBe(413);
  });

  it('queues requests over the concurrency limit, then sheds with 503 and Retry-After', async () => {
    const proxy = await start({ CONCURRENCY: '2', QUEUE_DEPTH: '2', QUEUE_TIMEOUT: '60s' });
    const first = [call(`${proxy.url}/hold`), call(`${proxy.url}/hold`)];
    await eventually(() => model.held.length === 2, 10_000, 'two requests at the model');
    const queued = [call(`${proxy.url}/hold`), call(`${proxy.url}/hold`)];
    await eventually(async () => /wharf_executor_wait_queue_depth 2\b/.test((await call(`${proxy.url}/metrics`)).body), 10_000, 'two requests waiting');
    const shed = await call(`${proxy.url}/hold`);
    expect(shed.status).toBe(503);
    expect(shed.headers['retry-after']).toBe('1');
    expect(JSON.parse(shed.body)).toMatchObject({ code: 'overloaded' });
    expect(model.held.length).toBe(2);
    model.release();
    await eventually(() => model.held.length === 2, 10_000, 'the queued requests to reach the model');
    model.release();
    const answers = await Promise.all([...first, ...queued]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    const metrics = (await call(`${proxy.url}/metrics`)).body;
    expect(metrics).toMatch(/wharf_executor_requests_total\{route="proxy",code="503"\} 1/);
    expect(metrics).toMatch(/wharf_executor_refused_total\{reason="overloaded"\} 1/);
  });

  it('on SIGTERM fails readiness first, keeps serving, and finishes every accepted request', async () => {
    const proxy = await start({ SHUTDOWN_DELAY: '1s', DRAIN_TIMEOUT: '60s', CONCURRENCY: '0' });
    const held = Array.from({ length: 10 }, () => call(`${proxy.url}/hold`));
    await eventually(() => model.held.length === 10, 10_000, 'ten requests at the model');
    const seenBefore = model.seen.get('/during') ?? 0;
    // Load all along: every request the executor accepts must be answered in full.
    const outcomes: (number | string)[] = [];
    let loading = true;
    const load = (async () => {
      while (loading) {
        outcomes.push(await call(`${proxy.url}/during`).then((answer) => answer.status, (error: NodeJS.ErrnoException) => error.code ?? error.message));
      }
    })();
    await eventually(() => outcomes.length >= 3, 10_000, 'load before the signal');
    proxy.signal('SIGTERM');
    await eventually(async () => (await call(`${proxy.url}/readyz`)).status === 503, 10_000, 'readiness to fail');
    model.release();
    expect((await Promise.all(held)).map((answer) => answer.status)).toEqual(Array(10).fill(200));
    expect(await proxy.exited).toBe(0);
    loading = false;
    await load;
    const answered = outcomes.filter((outcome) => outcome === 200).length;
    // Requests went on being served after readiness failed; once the listener closed, new
    // connections are refused (or, one opened just before, closed before its request was read).
    // No answer other than 200 was given, and every request the model saw was answered in full.
    const firstRefused = outcomes.findIndex((outcome) => outcome !== 200);
    expect(firstRefused).toBeGreaterThan(3);
    expect(outcomes.filter((outcome) => ![200, 'ECONNREFUSED', 'ECONNRESET'].includes(outcome))).toEqual([]);
    expect(answered).toBe((model.seen.get('/during') ?? 0) - seenBefore);
    executor = undefined;
  });
});
