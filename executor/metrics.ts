import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The executor's Prometheus metrics, in a registry of its own. Names and labels are a contract
 * with the autoscaling rules (prometheus-adapter): docs/executor.md lists them; change both.
 */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Where the gauges read their values at scrape time; the parts fill these in as they start. */
export interface MetricSources {
  inFlight: () => number;
  waiting: () => number;
  ready: () => boolean;
  asyncQueueDepth: () => Promise<number | undefined>;
  asyncPending: () => Promise<{ count: number; oldestAt?: number } | undefined>;
}

export function createExecutorMetrics() {
  const registry = new Registry();
  const sources: MetricSources = {
    inFlight: () => 0,
    waiting: () => 0,
    ready: () => false,
    asyncQueueDepth: async () => undefined,
    asyncPending: async () => undefined,
  };
  let pendingAt = 0;
  let pending: { count: number; oldestAt?: number } | undefined;
  // One read of the pending set serves both gauges of a scrape.
  const readPending = async () => {
    if (performance.now() - pendingAt > 200) {
      pending = await sources.asyncPending().catch(() => undefined);
      pendingAt = performance.now();
    }
    return pending;
  };
  const prefix = 'wharf_executor_';
  return {
    registry,
    requests: new Counter({
      name: `${prefix}requests_total`,
      help: 'Requests answered, by route (proxy, async_submit, async_status, probe, metrics, other) and HTTP status code',
      labelNames: ['route', 'code'],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: `${prefix}request_duration_seconds`,
      help: 'Whole request time at the executor, from first byte in to last byte out, by route',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    upstreamDuration: new Histogram({
      name: `${prefix}upstream_duration_seconds`,
      help: 'Time the model server took to send its response headers, by mode (sync, async)',
      labelNames: ['mode'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    upstreamErrors: new Counter({
      name: `${prefix}upstream_errors_total`,
      help: 'Calls to the model server that failed, by kind (connect, timeout, reset, status_5xx)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    sources,
    inFlight: new Gauge({
      name: `${prefix}in_flight_requests`,
      help: 'Requests being served by the model server now (sync and async)',
      registers: [registry],
      collect() {
        this.set(sources.inFlight());
      },
    }),
    waiting: new Gauge({
      name: `${prefix}wait_queue_depth`,
      help: 'Sync requests waiting for a concurrency slot',
      registers: [registry],
      collect() {
        this.set(sources.waiting());
      },
    }),
    concurrencyLimit: new Gauge({ name: `${prefix}concurrency_limit`, help: 'Configured CONCURRENCY (0: unlimited)', registers: [registry] }),
    ready: new Gauge({
      name: `${prefix}ready`,
      help: '1 while the executor reports ready (model server ready, not draining)',
      registers: [registry],
      collect() {
        this.set(sources.ready() ? 1 : 0);
      },
    }),
    refused: new Counter({
      name: `${prefix}refused_total`,
      help: 'Requests refused before reaching the model, by problem code (unauthenticated, token_invalid, forbidden, rate_limited, overloaded, queue_timeout, payload_too_large, registry_unavailable, queue_unavailable, …)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    asyncQueueDepth: new Gauge({
      name: `${prefix}async_queue_depth`,
      help: "Messages ready in this deployment's async queue (not yet taken by an executor)",
      registers: [registry],
      async collect() {
        const depth = await sources.asyncQueueDepth().catch(() => undefined);
        if (depth !== undefined) this.set(depth);
      },
    }),
    asyncOldestAge: new Gauge({
      name: `${prefix}async_oldest_age_seconds`,
      help: 'Age of the oldest async request not finished yet (queued or running), all executors of the deployment',
      registers: [registry],
      async collect() {
        const read = await readPending();
        if (read) this.set(read.oldestAt ? Math.max(0, (Date.now() - read.oldestAt) / 1000) : 0);
      },
    }),
    asyncPending: new Gauge({
      name: `${prefix}async_pending`,
      help: 'Async requests accepted and not finished yet (queued or running), all executors of the deployment',
      registers: [registry],
      async collect() {
        const read = await readPending();
        if (read) this.set(read.count);
      },
    }),
    asyncJobs: new Counter({
      name: `${prefix}async_jobs_total`,
      help: 'Async requests finished by this executor, by outcome (succeeded, failed, dead_lettered, duplicate)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    callbacks: new Counter({
      name: `${prefix}callbacks_total`,
      help: 'Callback deliveries, by outcome (delivered, retried, abandoned)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}

export type ExecutorMetrics = ReturnType<typeof createExecutorMetrics>;
