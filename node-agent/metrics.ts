import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The agent's Prometheus metrics, in a registry of its own. */
export function createAgentMetrics() {
  const registry = new Registry();
  const prefix = 'wharf_agent_';
  return {
    registry,
    hits: new Counter({ name: `${prefix}cache_hits_total`, help: 'Version requests answered from the local cache', registers: [registry] }),
    misses: new Counter({ name: `${prefix}cache_misses_total`, help: 'Version requests that had to wait for a pull', registers: [registry] }),
    bytesPulled: new Counter({ name: `${prefix}bytes_pulled_total`, help: 'Bytes received from the registry', registers: [registry] }),
    evictions: new Counter({ name: `${prefix}evictions_total`, help: 'Versions evicted to stay under the disk budget', registers: [registry] }),
    corruptFiles: new Counter({ name: `${prefix}corrupt_files_total`, help: 'Cached files found with the wrong sha256 and dropped', registers: [registry] }),
    pullFailures: new Counter({ name: `${prefix}pull_failures_total`, help: 'Pulls that failed (retried with backoff)', registers: [registry] }),
    heartbeatFailures: new Counter({ name: `${prefix}heartbeat_failures_total`, help: 'Heartbeats the registry did not answer', registers: [registry] }),
    diskUsed: new Gauge({ name: `${prefix}disk_used_bytes`, help: 'Bytes the cache uses on disk', registers: [registry] }),
    diskBudget: new Gauge({ name: `${prefix}disk_budget_bytes`, help: 'Bytes the cache may use', registers: [registry] }),
    versions: new Gauge({ name: `${prefix}versions`, help: 'Versions known to the agent, by state', labelNames: ['state'], registers: [registry] }),
    pullDuration: new Histogram({
      name: `${prefix}pull_duration_seconds`,
      help: 'Time to pull a whole version',
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers: [registry],
    }),
  };
}

export type AgentMetrics = ReturnType<typeof createAgentMetrics>;
