import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** One registry per app instance, so tests can run several apps in one process. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'wharf_http_request_duration_seconds',
      help: 'HTTP request duration by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [this.registry],
    });
  }

  /**
   * Express middleware timing every request. The label is the route template
   * (`/api/v1/projects/:project`), never the raw URL, so label cardinality stays bounded.
   */
  middleware() {
    return (request: Request, response: Response, next: NextFunction) => {
      const end = this.httpDuration.startTimer();
      response.on('finish', () => {
        const template = request.route?.path;
        const route = typeof template === 'string' ? `${request.baseUrl}${template}` : 'unmatched';
        end({ method: request.method, route, status: String(response.statusCode) });
      });
      next();
    };
  }
}

export const METRICS = Symbol('METRICS');
