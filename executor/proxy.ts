import { Agent, ClientRequest, IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, request, ServerResponse } from 'node:http';
import { Transform, TransformCallback } from 'node:stream';
import type { ExecutorMetrics } from './metrics';
import { ExecutorError, executorProblem, sendProblem } from './problems';

/** Headers that describe one hop's connection, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

export function forwardableHeaders(headers: IncomingHttpHeaders, drop: Set<string> = HOP_BY_HOP): OutgoingHttpHeaders {
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (!drop.has(name) && !listed.has(name)) out[name] = headers[name];
  }
  return out;
}

/** Counts bytes through and fails the stream once they pass `limit` (chunked bodies have no length). */
export class ByteLimit extends Transform {
  bytes = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) callback(new ExecutorError('payload_too_large', `The request body is larger than ${this.limit} bytes`));
    else callback(null, chunk);
  }
}

export interface ProxyOptions {
  upstream: URL;
  maxSockets: number;
  /** No response headers within this time after the request body was sent: 504. */
  headersTimeoutMs: number;
  /** No byte on either side for this long: the exchange is abandoned. */
  idleTimeoutMs: number;
  maxRequestBytes: number;
}

/**
 * Forwards one request to the model server and its answer back, streaming both bodies: memory
 * stays at a few socket buffers whatever the size, and chunks of a streamed response (SSE,
 * chunked token streams) are written to the caller as they arrive. Upstream sockets are kept
 * alive in a pool.
 */
export class SyncProxy {
  readonly agent: Agent;

  constructor(
    private readonly options: ProxyOptions,
    private readonly metrics: ExecutorMetrics,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets, scheduling: 'lifo' });
  }

  /** Resolves when the exchange is over, whatever its outcome (the caller releases its slot then). */
  forward(incoming: IncomingMessage, response: ServerResponse, extraHeaders: OutgoingHttpHeaders): Promise<void> {
    return new Promise((resolve) => {
      const { upstream, headersTimeoutMs, idleTimeoutMs, maxRequestBytes } = this.options;
      const headers = forwardableHeaders(incoming.headers);
      delete headers.authorization; // the caller's Wharf token is for the executor, not the model
      Object.assign(headers, extraHeaders);
      const startedAt = performance.now();
      let finished = false;
      let headerTimer: NodeJS.Timeout | undefined;
      const done = () => {
        if (finished) return;
        finished = true;
        clearTimeout(headerTimer);
        resolve();
      };
      const outgoing: ClientRequest = request({
        agent: this.agent,
        protocol: upstream.protocol,
        hostname: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers,
      });
      const fail = (error: Error & { code?: string }) => {
        if (finished) return;
        outgoing.destroy();
        if (error instanceof ExecutorError) {
          sendProblem(response, executorProblem(error.code, error.detail), { connection: 'close' });
        } else if (response.headersSent) {
          this.metrics.upstreamErrors.inc({ kind: 'reset' });
          response.destroy(error);
        } else {
          const kind = error.code === 'ECONNREFUSED' || error.code === 'ENOTFOUND' || error.code === 'EHOSTUNREACH' ? 'connect' : error.code === 'ETIMEDOUT' ? 'timeout' : 'reset';
          this.metrics.upstreamErrors.inc({ kind });
          if (kind === 'timeout') sendProblem(response, executorProblem('upstream_timeout', `The model server sent no response within ${headersTimeoutMs} ms`));
          else if (kind === 'connect') sendProblem(response, executorProblem('upstream_unavailable', `The model server at ${upstream.host} refused the connection (${error.code})`), { 'retry-after': '1' });
          else sendProblem(response, executorProblem('upstream_failed', `The model server closed the connection before answering (${error.code ?? error.message})`));
        }
        done();
      };
      outgoing.setTimeout(idleTimeoutMs, () => fail(Object.assign(new Error('idle timeout'), { code: 'ETIMEDOUT' })));
      outgoing.on('error', fail);
      outgoing.on('finish', () => {
        headerTimer = setTimeout(() => fail(Object.assign(new Error('no response headers'), { code: 'ETIMEDOUT' })), headersTimeoutMs);
      });
      outgoing.on('response', (answer) => {
        clearTimeout(headerTimer);
        this.metrics.upstreamDuration.observe({ mode: 'sync' }, (performance.now() - startedAt) / 1000);
        if ((answer.statusCode ?? 0) >= 500) this.metrics.upstreamErrors.inc({ kind: 'status_5xx' });
        response.writeHead(answer.statusCode ?? 502, answer.statusMessage, forwardableHeaders(answer.headers) as OutgoingHttpHeaders);
        // A streamed answer (no length: chunked, SSE) gets its headers now, so a stream that starts
        // slowly is seen to start; a sized one sends them with its first bytes (one write less).
        if (answer.headers['content-length'] === undefined) response.flushHeaders();
        answer.on('data', (chunk: Buffer) => {
          if (!response.write(chunk)) {
            answer.pause();
            response.once('drain', () => answer.resume());
          }
        });
        answer.on('end', () => {
          response.end();
          done();
        });
        answer.on('error', (error) => fail(error));
        answer.on('aborted', () => fail(Object.assign(new Error('upstream aborted'), { code: 'ECONNRESET' })));
      });
      // The caller went away: stop the model's work too.
      response.on('close', () => {
        if (!response.writableFinished) outgoing.destroy();
        done();
      });
      incoming.on('error', (error) => fail(error));
      const limit = new ByteLimit(maxRequestBytes);
      limit.on('error', fail);
      incoming.pipe(limit).pipe(outgoing);
    });
  }
}
