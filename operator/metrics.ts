// Prometheus metrics of the controller, on its own registry (GET /metrics on the HTTP port).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Outcome } from '../kube-runtime/work-queue';

export function createOperatorMetrics() {
  const registry = new Registry();
  const reconciles = new Counter({ name: 'wharf_operator_reconciles_total', help: 'Reconciles by result', labelNames: ['result'] as const, registers: [registry] });
  const duration = new Histogram({
    name: 'wharf_operator_reconcile_duration_seconds', help: 'Time per reconcile', registers: [registry],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  const retries = new Counter({ name: 'wharf_operator_retries_total', help: 'Reconciles queued again after an error', registers: [registry] });
  const depth = new Gauge({ name: 'wharf_operator_queue_depth', help: 'Keys waiting in the work queue', registers: [registry] });
  const registryEvents = new Counter({ name: 'wharf_operator_registry_events_total', help: 'Registry event deliveries by result', labelNames: ['result'] as const, registers: [registry] });
  return {
    registry,
    registryEvents,
    depth,
    observe(outcome: Outcome, durationMs: number) {
      reconciles.inc({ result: outcome });
      duration.observe(durationMs / 1000);
      if (outcome === 'error') retries.inc();
    },
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
