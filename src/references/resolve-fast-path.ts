import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { INestApplication } from '@nestjs/common';
import { AuthService } from '../auth/auth.service';
import { PROBLEM_CONTENT_TYPE, problemDocument } from '../common/errors/problem';
import { SECURITY_HEADERS } from '../common/http/security-headers';
import { METRICS, Metrics } from '../observability/metrics';
import { RateLimitDecision, RateLimiter, tokenClientKey } from '../ratelimit/rate-limiter';
import { hashTokenSecret } from '../auth/token-secret';
import { ResolveService } from './resolve.service';

const RESOLVE_PATH = /^\/api\/v1\/projects\/([a-z0-9-]{1,63})\/models\/([a-z0-9._-]{1,128})\/resolve\?ref=([^&#+]{1,512})$/;
const BEARER = /^Bearer\s+(\S+)\s*$/i;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ROUTE_LABEL = '/api/v1/projects/:project/models/:model/resolve';

/**
 * `GET …/resolve` is what every model server start and every router asks, thousands of times a
 * second. When the token decision, the project role and the answer for exactly this model and
 * ref are all in the in-process caches, the answer is written straight from the node:http
 * request handler, skipping the Express/Nest pipeline that costs ~20× the work. Anything else
 * (a miss, another query parameter, a conditional request, any doubt) goes down the ordinary
 * path unchanged, which does the full checks and fills the caches. So the fast path never
 * answers anything the full path has not answered under the same invalidation stamp: a
 * revoked token, a moved tag or a changed membership is a miss at once.
 *
 * Fast answers count against the client's read rate limit like any other request, and are
 * counted in the request-duration metric, but are not access-logged: one log line per resolve
 * would cost more than the answer.
 */
export class ResolveFastPath {
  /** The histogram child of successful fast answers, bound once: label lookups cost per request. */
  private readonly okDuration;

  constructor(
    private readonly auth: AuthService,
    private readonly resolver: ResolveService,
    private readonly metrics: Metrics,
    private readonly limiter: RateLimiter,
  ) {
    this.okDuration = metrics.httpDuration.labels('GET', ROUTE_LABEL, '200');
  }

  /** Answers the request and returns true, or returns false having touched nothing. */
  tryHandle(request: IncomingMessage, response: ServerResponse): boolean {
    // A browser's cross-origin call takes the full path, which applies the CORS policy.
    if (request.method !== 'GET' || request.headers['if-none-match'] !== undefined || request.headers.origin !== undefined) return false;
    const match = RESOLVE_PATH.exec(request.url ?? '');
    if (!match) return false;
    const authorization = request.headers.authorization;
    const bearer = authorization === undefined ? null : BEARER.exec(authorization);
    if (!bearer) return false;
    let ref: string;
    try {
      ref = decodeURIComponent(match[3]);
    } catch {
      return false;
    }
    const started = process.hrtime.bigint();
    const digest = hashTokenSecret(bearer[1]);
    const auth = this.auth.cachedAuthentication(bearer[1], digest);
    if (!auth) return false;
    const project = this.auth.cachedProjectAccess(auth, match[1]);
    if (!project) return false;
    const json = this.resolver.cachedJson(project, match[2], ref);
    if (json === undefined) return false;
    const header = request.headers['x-request-id'];
    const requestId = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    // The answer is ours from here on; only the client's rate-limit budget is left to check,
    // at once when the counters are in this process, else with a round trip to Redis.
    const client = tokenClientKey(digest);
    const decision = this.limiter.checkNow('read', client);
    if (decision !== undefined) {
      this.answer(response, json, requestId, decision, started);
      return true;
    }
    void this.limiter
      .check('read', client)
      .then((checked) => this.answer(response, json, requestId, checked, started))
      .catch(() => response.destroy());
    return true;
  }

  private answer(response: ServerResponse, json: string, requestId: string, decision: RateLimitDecision | null, started: bigint): void {
    let status = 200;
    let body = json;
    const headers: Record<string, string | number> = { 'X-Request-Id': requestId, ...decision?.headers };
    if (decision?.retryAfterSeconds !== undefined) {
      status = 429;
      body = JSON.stringify(problemDocument('rate_limited', decision.detail!, { retryAfter: decision.retryAfterSeconds, requestId }));
      headers['Retry-After'] = String(decision.retryAfterSeconds);
    }
    response.writeHead(status, {
      ...SECURITY_HEADERS,
      ...headers,
      'Content-Type': status === 200 ? 'application/json; charset=utf-8' : `${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
      'Content-Length': Buffer.byteLength(body),
    });
    response.end(body);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (status === 200) this.okDuration.observe(seconds);
    else this.metrics.httpDuration.observe({ method: 'GET', route: ROUTE_LABEL, status: String(status) }, seconds);
  }

  /** Puts the fast path in front of the app's HTTP server (call after init, before listen). */
  static install(app: INestApplication): void {
    const fastPath = new ResolveFastPath(app.get(AuthService), app.get(ResolveService), app.get<Metrics>(METRICS), app.get(RateLimiter));
    const server = app.getHttpServer() as Server;
    const handlers = server.listeners('request') as ((request: IncomingMessage, response: ServerResponse) => void)[];
    server.removeAllListeners('request');
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      if (fastPath.tryHandle(request, response)) return;
      for (const handler of handlers) handler(request, response);
    });
  }
}
