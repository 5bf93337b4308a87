import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { INestApplication } from '@nestjs/common';
import { PROBLEM_CONTENT_TYPE, problemDocument } from '../common/errors/problem';
import { WharfError } from '../common/errors/wharf-error';
import { SECURITY_HEADERS } from '../common/http/security-headers';
import { METRICS, Metrics } from '../observability/metrics';
import { SchedulerController } from './scheduler.controller';
import { SchedulerService } from './scheduler.service';

const VERB_PATH = /^\/api\/v1\/scheduler\/(?:t\/([A-Za-z0-9_-]{1,256})\/)?(filter|prioritize)$/;
const BEARER = /^Bearer\s+(\S+)\s*$/i;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** As the JSON parser of the full path (registry.ts): ExtenderArgs of ~30,000 node names. */
const BODY_LIMIT = 1024 * 1024;

/**
 * kube-scheduler calls filter and prioritize for every pod, each time naming every feasible node:
 * at 5,000 nodes the Express/Nest pipeline (its per-string input walk above all) costs several
 * times the decision itself. Requests that are certainly the extender's (the path, a JSON type,
 * the right token, no browser Origin, a body within the limit) are answered here, straight from
 * node:http; anything else (a wrong token, another type, any doubt) is left, unread, to the full
 * path, which refuses it with the usual problem and counts failed tokens. The bodies read here
 * reach nothing but the in-memory index and the version lookup, whose names are checked by a
 * strict pattern first, so the full path's NUL/surrogate/depth checks have nothing to protect.
 * Answers are counted in the request-duration metric but not access-logged.
 */
export class SchedulerFastPath {
  constructor(
    private readonly controller: SchedulerController,
    private readonly scheduler: SchedulerService,
    private readonly metrics: Metrics,
  ) {}

  /** Takes the request (and returns true), or returns false having read nothing. */
  tryHandle(request: IncomingMessage, response: ServerResponse): boolean {
    if (request.method !== 'POST' || request.headers.origin !== undefined) return false;
    const match = VERB_PATH.exec(request.url ?? '');
    if (!match) return false;
    if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) return false;
    const length = request.headers['content-length'];
    if (length === undefined || Number(length) > BODY_LIMIT) return false;
    const token = match[1] ?? BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (!token || !this.controller.acceptsToken(token)) return false;
    const verb = match[2] as 'filter' | 'prioritize';
    const route = match[1] ? `/api/v1/scheduler/t/:token/${verb}` : `/api/v1/scheduler/${verb}`;
    void this.handle(request, response, verb, route);
    return true;
  }

  private async handle(request: IncomingMessage, response: ServerResponse, verb: 'filter' | 'prioritize', route: string): Promise<void> {
    const started = process.hrtime.bigint();
    const header = request.headers['x-request-id'];
    const requestId = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    let status = 200;
    let body: string;
    try {
      const args = parseJson(await readBody(request));
      body = JSON.stringify(verb === 'filter' ? await this.scheduler.filter(args) : await this.scheduler.prioritize(args));
    } catch (error) {
      const known = error instanceof WharfError ? error : new WharfError('internal_error', 'The extender failed to answer');
      status = known.status;
      body = JSON.stringify(problemDocument(known.code, known.detail, { ...known.extensions, requestId }));
    }
    if (response.destroyed) return;
    response.writeHead(status, {
      ...SECURITY_HEADERS,
      'X-Request-Id': requestId,
      'Content-Type': status === 200 ? 'application/json; charset=utf-8' : `${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
      'Content-Length': Buffer.byteLength(body),
    });
    response.end(body);
    this.metrics.httpDuration.observe({ method: 'POST', route, status: String(status) }, Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** Puts the fast path in front of the app's HTTP server (call after init, before listen). */
  static install(app: INestApplication): void {
    const fastPath = new SchedulerFastPath(app.get(SchedulerController), app.get(SchedulerService), app.get<Metrics>(METRICS));
    const server = app.getHttpServer() as Server;
    const handlers = server.listeners('request') as ((request: IncomingMessage, response: ServerResponse) => void)[];
    server.removeAllListeners('request');
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      if (fastPath.tryHandle(request, response)) return;
      for (const handler of handlers) handler(request, response);
    });
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) {
        reject(new WharfError('payload_too_large', `The request body is larger than ${BODY_LIMIT} bytes`));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new WharfError('validation_failed', 'Not kube-scheduler ExtenderArgs: the body is not JSON');
  }
}
