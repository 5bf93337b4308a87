import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ListResult, WatchEventType, WatchFn } from './informer';

/** A refusal from the apiserver, with its Status reason (NotFound, Conflict, Invalid, Gone …). */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export const isNotFound = (error: unknown) => error instanceof KubeApiError && error.code === 404;
export const isConflict = (error: unknown) => error instanceof KubeApiError && error.code === 409;

export interface RequestOptionsExtra {
  query?: Record<string, string | number | boolean | undefined>;
  contentType?: string;
}

/**
 * A small JSON client for the apiserver. Raw JSON on purpose: @kubernetes/client-node's typed
 * models drop fields they do not know (custom resources, newer API fields), which a controller
 * applying whole objects cannot afford. The KubeConfig (file, or in-cluster) provides the server
 * and the credentials.
 */
export class KubeClient {
  constructor(
    readonly server: URL,
    private readonly tls: RequestOptions,
  ) {}

  static async fromKubeconfig(file?: string): Promise<KubeClient> {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const config = new KubeConfig();
    if (file) config.loadFromFile(file);
    else config.loadFromDefault();
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error(`no current cluster in the kubeconfig${file ? ` ${file}` : ''}`);
    const tls: RequestOptions = {};
    await config.applyToHTTPSOptions(tls);
    return new KubeClient(new URL(cluster.server), tls);
  }

  async request<T>(method: string, path: string, body?: unknown, extra: RequestOptionsExtra = {}): Promise<T> {
    const response = await this.send(method, path, extra, body === undefined ? undefined : JSON.stringify(body));
    const text = await readAll(response);
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
    throw toApiError(status, text, `${method} ${path}`);
  }

  get<T>(path: string, query?: RequestOptionsExtra['query']): Promise<T> {
    return this.request<T>('GET', path, undefined, { query });
  }

  /** Server-side apply of OBJECT at PATH as FIELD_MANAGER, taking over fields others set (force). */
  apply<T extends KubernetesObject>(path: string, object: T, fieldManager: string): Promise<T> {
    return this.request<T>('PATCH', path, object, {
      query: { fieldManager, force: true, fieldValidation: 'Strict' },
      contentType: 'application/apply-patch+yaml',
    });
  }

  list<T>(path: string, query?: RequestOptionsExtra['query']): () => Promise<ListResult<T>> {
    return () => this.get<ListResult<T>>(path, query);
  }

  /** A WatchFn for Informer over PATH (a collection), from a resourceVersion, with bookmarks. */
  watch<T>(path: string, query: RequestOptionsExtra['query'] = {}): WatchFn<T> {
    return async (resourceVersion, onEvent, onDone) => {
      const response = await this.send('GET', path, {
        query: { ...query, watch: true, allowWatchBookmarks: true, resourceVersion, timeoutSeconds: 300 + Math.floor(Math.random() * 60) },
      });
      const status = response.statusCode ?? 0;
      if (status !== 200) throw toApiError(status, await readAll(response), `watch ${path}`);
      let finished = false;
      const finish = (error?: unknown) => {
        if (finished) return;
        finished = true;
        onDone(error);
      };
      const lines = createInterface({ input: response });
      lines.on('line', (line) => {
        if (!line.trim()) return;
        try {
          const event = JSON.parse(line) as { type: WatchEventType; object: T };
          onEvent(event.type, event.object);
        } catch (error) {
          finish(error);
        }
      });
      response.on('error', finish);
      response.on('close', () => finish(response.complete ? undefined : new Error('watch connection closed')));
      return { abort: () => { finished = true; response.destroy(); } };
    };
  }

  private send(method: string, path: string, extra: RequestOptionsExtra, body?: string): Promise<IncomingMessage> {
    const url = new URL(path, this.server);
    for (const [key, value] of Object.entries(extra.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(url, {
        ...this.tls,
        method,
        headers: {
          ...(this.tls.headers ?? {}),
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': extra.contentType ?? 'application/json' } : {}),
        },
      }, resolve);
      req.on('error', reject);
      req.end(body);
    });
  }
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    response.on('end', () => resolve(text));
    response.on('error', reject);
  });
}

function toApiError(status: number, text: string, what: string): KubeApiError {
  try {
    const parsed = JSON.parse(text) as { reason?: string; message?: string };
    return new KubeApiError(status, parsed.reason ?? 'Unknown', parsed.message ?? `${what}: ${status}`);
  } catch {
    return new KubeApiError(status, 'Unknown', `${what}: ${status} ${text.slice(0, 200)}`);
  }
}
