import type { NextFunction, Request, Response } from 'express';
import { problemDocument, PROBLEM_CONTENT_TYPE } from '../errors/problem';

/** Methods a browser on an allowed origin may use: every method of the API. */
const ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Request headers the API reads beyond the CORS-safelisted ones. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Range', 'If-None-Match', 'X-Part-Sha256', 'X-Request-Id'];

/** Response headers a script on an allowed origin may read (the safelisted ones need no listing). */
const EXPOSED_HEADERS = ['ETag', 'Content-Range', 'Content-Length', 'Accept-Ranges', 'Location', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'X-Content-Sha256', 'X-Request-Id'];

/** A browser may cache a preflight answer this long (Chromium caps it at 2 hours). */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * The cross-origin policy: which web origins (the web console's) may call the API from a
 * browser. Tokens travel in the Authorization header, never in cookies, so credentials mode
 * is never allowed and a `*` policy hands no ambient authority to other sites. With no origin
 * configured nothing cross-origin is allowed: no CORS header is ever sent.
 */
export class CorsPolicy {
  private readonly any: boolean;
  private readonly origins: Set<string>;

  constructor(allowed: readonly string[]) {
    this.any = allowed.includes('*');
    this.origins = new Set(allowed.filter((origin) => origin !== '*').map((origin) => origin.toLowerCase()));
  }

  get enabled(): boolean {
    return this.any || this.origins.size > 0;
  }

  allows(origin: string): boolean {
    return this.any || this.origins.has(origin.toLowerCase());
  }

  /** Express middleware: answers preflights itself and marks allowed answers. */
  middleware(): (request: Request, response: Response, next: NextFunction) => void {
    return (request, response, next) => {
      const origin = request.headers.origin;
      const preflight = request.method === 'OPTIONS' && origin !== undefined && request.headers['access-control-request-method'] !== undefined;
      if (this.enabled) response.vary('Origin');
      if (origin === undefined || (!preflight && !this.allows(origin))) {
        next();
        return;
      }
      if (!preflight) {
        response.set({ 'Access-Control-Allow-Origin': this.any ? '*' : origin, 'Access-Control-Expose-Headers': EXPOSED_HEADERS.join(', ') });
        next();
        return;
      }
      const method = String(request.headers['access-control-request-method']).toUpperCase();
      if (!this.allows(origin) || !ALLOWED_METHODS.includes(method)) {
        const detail = this.allows(origin)
          ? `Cross-origin ${method} requests are not allowed`
          : `Origin ${origin} may not call this API from a browser (CORS_ALLOWED_ORIGINS)`;
        response.status(403).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify({ ...problemDocument('forbidden', detail), instance: request.path }));
        return;
      }
      response.vary('Access-Control-Request-Headers');
      response
        .status(204)
        .set({
          'Access-Control-Allow-Origin': this.any ? '*' : origin,
          'Access-Control-Allow-Methods': ALLOWED_METHODS.join(', '),
          'Access-Control-Allow-Headers': ALLOWED_HEADERS.join(', '),
          'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
        })
        .end();
    };
  }
}
