import * as http from 'node:http';
import * as https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { Problem, WharfApiError, WharfUnavailableError } from './errors';

export interface HttpClientOptions {
  /** Registry base URL, e.g. http://localhost:8080 */
  url: string;
  token?: string;
  /** Attempts after the first for retryable failures (network, 5xx, 429). */
  retries?: number;
  /** First backoff; doubles each attempt, with jitter. */
  backoffMs?: number;
  /** Ceiling for one wait, including a server's Retry-After. */
  maxBackoffMs?: number;
  userAgent?: string;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | string[] | undefined>;
  /** A JSON body. */
  body?: unknown;
  /** A multipart/form-data body. */
  form?: FormData;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /**
   * Whether the request may be sent again after it possibly reached the server. GET, HEAD, PUT
   * and DELETE are idempotent by HTTP's rules; a POST is only retried when the server surely did
   * not act on it (connection refused, 429, 503).
   */
  idempotent?: boolean;
}

/** A streamed answer: the status, its headers (lower-case names) and the unread body. */
export interface StreamedResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

const MAX_REDIRECTS = 5;

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const NOT_PROCESSED_STATUS = new Set([429, 503]);
const CONNECTION_REFUSED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

function networkCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string } })?.cause;
  return cause?.code ?? (error as { code?: string })?.code;
}

/** Seconds or an HTTP date, as RFC 9110 §10.2.3 allows. */
export function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** JSON over HTTP with the registry's conventions: bearer token, problem+json errors, retries. */
export class HttpClient {
  readonly url: string;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly options: HttpClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.retries = options.retries ?? 4;
    this.backoffMs = options.backoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  buildUrl(path: string, query?: RequestOptions['query']): string {
    const url = new URL(this.url + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      for (const item of [value].flat()) url.searchParams.append(key, String(item));
    }
    return url.toString();
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      'User-Agent': this.options.userAgent ?? 'wharf-client',
      ...(this.options.token ? { Authorization: `Bearer ${this.options.token}` } : {}),
      ...extra,
    };
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  /** Sends a request with retries and returns the successful response (2xx/3xx) unread. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = this.buildUrl(path, options.query);
    const idempotent = options.idempotent ?? method !== 'POST';
    const json = options.body === undefined ? undefined : JSON.stringify(options.body);
    const body = options.form ?? json;
    const headers = this.headers({ ...(json === undefined ? {} : { 'Content-Type': 'application/json' }), ...options.headers });
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, { method, headers, body, signal: options.signal, redirect: 'follow' });
      } catch (error) {
        await this.afterNoAnswer(error, attempt, idempotent, options.signal);
        continue;
      }
      if (response.ok || (response.status >= 300 && response.status < 400)) return response;
      const retryable = RETRYABLE_STATUS.has(response.status) && (idempotent || NOT_PROCESSED_STATUS.has(response.status));
      if (retryable && attempt < this.retries) {
        await response.body?.cancel();
        await this.wait(attempt, retryAfterMs(response.headers.get('retry-after')), options.signal);
        continue;
      }
      throw new WharfApiError(await readProblem(response), method, url);
    }
  }

  /**
   * Sends raw bytes (an upload part) and answers the JSON reply. Through `node:http`, not
   * `fetch`: fetch cuts a 16 MiB body into fresh web-stream chunks, which cost the client about
   * a second of CPU per gigabyte sent, on the machine that is also hashing the next part. Same
   * conventions as `send`: retries (only when `idempotent`, as PUT is), problem+json errors.
   */
  async sendBytes<T>(method: string, path: string, body: Uint8Array, options: { headers?: Record<string, string>; signal?: AbortSignal; idempotent?: boolean } = {}): Promise<T> {
    const url = new URL(this.buildUrl(path));
    const headers = this.headers({ ...options.headers, 'Content-Length': String(body.length) });
    const idempotent = options.idempotent ?? method !== 'POST';
    for (let attempt = 0; ; attempt++) {
      let response: { status: number; statusText: string; retryAfter: string | null; text: string };
      try {
        response = await this.requestWithBody(url, method, headers, body, options.signal);
      } catch (error) {
        await this.afterNoAnswer(error, attempt, idempotent, options.signal);
        continue;
      }
      if (response.status >= 200 && response.status < 300) return (response.text ? JSON.parse(response.text) : undefined) as T;
      const retryable = RETRYABLE_STATUS.has(response.status) && (idempotent || NOT_PROCESSED_STATUS.has(response.status));
      if (retryable && attempt < this.retries) {
        await this.wait(attempt, retryAfterMs(response.retryAfter), options.signal);
        continue;
      }
      throw new WharfApiError(problemOf(response.status, response.statusText, response.text), method, url.toString());
    }
  }

  private requestWithBody(url: URL, method: string, headers: Record<string, string>, body: Uint8Array, signal?: AbortSignal) {
    const { module, agent } = this.transport(url);
    return new Promise<{ status: number; statusText: string; retryAfter: string | null; text: string }>((resolve, reject) => {
      const request = module.request(url, { method, headers, agent, signal }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.once('error', reject);
        response.once('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            statusText: response.statusMessage ?? '',
            retryAfter: (response.headers['retry-after'] as string | undefined) ?? null,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
      request.once('error', reject);
      request.end(body);
    });
  }

  /**
   * A GET whose body is a Node stream, for artifact bytes. fetch hands a body over as a web
   * stream of fresh arrays, which costs about half as much CPU again per gigabyte as the Node
   * socket under it; a pull spends most of its time right here. Same conventions as `send`:
   * retries, problem+json errors, redirects followed (a redirect to another origin, such as a
   * presigned S3 URL, does not carry the bearer token along).
   */
  async stream(path: string, options: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<StreamedResponse> {
    for (let attempt = 0; ; attempt++) {
      let response: StreamedResponse;
      try {
        response = await this.getFollowingRedirects(new URL(this.buildUrl(path)), this.headers(options.headers), options.signal);
      } catch (error) {
        await this.afterNoAnswer(error, attempt, true, options.signal);
        continue;
      }
      if (response.status < 400) return response;
      const retryAfter = response.headers['retry-after'];
      const problem = await readStreamedProblem(response);
      if (RETRYABLE_STATUS.has(response.status) && attempt < this.retries) {
        await this.wait(attempt, retryAfterMs(typeof retryAfter === 'string' ? retryAfter : null), options.signal);
        continue;
      }
      throw new WharfApiError(problem, 'GET', this.buildUrl(path));
    }
  }

  private readonly agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
  };

  /** node:http or node:https for this URL, with its keep-alive agent. */
  private transport(url: URL): { module: typeof http | typeof https; agent: http.Agent } {
    return url.protocol === 'https:' ? { module: https, agent: this.agents.https } : { module: http, agent: this.agents.http };
  }

  private async getFollowingRedirects(url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<StreamedResponse> {
    const origin = url.origin;
    for (let redirects = 0; ; redirects++) {
      const { module, agent } = this.transport(url);
      const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const request = module.get(url, { headers, agent, signal }, resolve);
        request.once('error', reject);
      });
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && status !== 304 && location && redirects < MAX_REDIRECTS) {
        response.resume();
        url = new URL(location, url);
        if (url.origin !== origin) delete headers.Authorization;
        continue;
      }
      return { status, headers: response.headers, body: response };
    }
  }

  /**
   * A request that got no answer: waits before the next attempt when it may be sent again (an
   * idempotent one, or one whose connection was refused, so it surely did nothing), else throws.
   */
  private async afterNoAnswer(error: unknown, attempt: number, idempotent: boolean, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw error;
    const refused = CONNECTION_REFUSED.has(networkCode(error) ?? '');
    if (attempt < this.retries && (idempotent || refused)) return this.wait(attempt, undefined, signal);
    throw new WharfUnavailableError(`cannot reach ${this.url}: ${networkCode(error) ?? (error as Error).message}`, error);
  }

  private async wait(attempt: number, serverMs: number | undefined, signal?: AbortSignal): Promise<void> {
    const exponential = this.backoffMs * 2 ** attempt;
    const jittered = exponential / 2 + Math.random() * (exponential / 2);
    await sleep(Math.min(this.maxBackoffMs, serverMs ?? jittered), undefined, { signal });
  }
}

/** The problem document of a failed response, or one made up from its status line. */
export async function readProblem(response: Response): Promise<Problem> {
  return problemOf(response.status, response.statusText, await response.text().catch(() => ''));
}

/** The problem document of a failed streamed response (the first 64 KiB of its body are kept). */
async function readStreamedProblem(response: StreamedResponse): Promise<Problem> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of response.body) {
      if (length < 65_536) chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
    }
  } catch {
    // a broken body: whatever arrived is the detail
  }
  return problemOf(response.status, response.body.statusMessage ?? '', Buffer.concat(chunks).toString('utf8'));
}

function problemOf(status: number, statusText: string, text: string): Problem {
  try {
    const parsed = JSON.parse(text) as Problem;
    if (parsed && typeof parsed.code === 'string') return parsed;
  } catch {
    // not JSON: fall through
  }
  return {
    type: 'about:blank',
    title: statusText || 'HTTP error',
    status,
    detail: text.slice(0, 500) || `HTTP ${status}`,
    code: `http_${status}`,
  };
}
