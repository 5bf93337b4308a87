// The operator's settings, from the environment, validated once at start: every bad variable is
// listed as NAME=value: reason (secrets masked) and the process exits 2, like the registry.
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const positive = (max: number) => z.coerce.number().int().min(1).max(max);
const durationMs = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = z.string().url().refine((value) => /^https?:\/\//.test(value), 'must be an http:// or https:// URL');

export const operatorConfigSchema = z.object({
  REGISTRY_URL: url.default('http://wharf-registry.wharf-system.svc:8080'),
  /** A platform token (admin of every project the operator serves), never logged. */
  WHARF_TOKEN: z.string({ required_error: 'is required: a registry token the operator resolves references with' }).min(1),
  /** A kubeconfig file; unset, the in-cluster ServiceAccount (or ~/.kube/config). */
  KUBECONFIG: z.string().optional(),
  /** Only this namespace (tests, single-project installs); unset, every namespace. */
  WATCH_NAMESPACE: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a namespace name').optional(),
  CONCURRENT_RECONCILES: positive(64).default(4),
  RETRY_BASE_MS: durationMs(1, 60_000).default(5),
  RETRY_MAX_MS: durationMs(10, 1_000_000).default(1_000_000),
  RETRY_RATE_PER_SECOND: positive(10_000).default(10),
  RETRY_BURST: positive(100_000).default(100),
  /** Every ModelDeployment is reconciled at least this often, events or not (the safety net). */
  RESYNC_MS: durationMs(1_000, 86_400_000).default(300_000),
  /** How often a resolved reference is checked again when the registry's events cannot reach us. */
  RESOLVE_INTERVAL_MS: durationMs(1_000, 86_400_000).default(60_000),
  /** The HTTP server: registry event deliveries (POST /events), /healthz, /readyz, /metrics. */
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  HTTP_PORT: port.default(8081),
  /** Where the registry posts tag moves for us (our HTTP server as the registry reaches it). */
  EVENTS_URL: url.optional(),
  /** The admission webhooks' HTTPS server; both files or neither (then no webhooks are served). */
  WEBHOOK_HOST: z.string().min(1).default('0.0.0.0'),
  WEBHOOK_PORT: port.default(9443),
  WEBHOOK_CERT_FILE: z.string().optional(),
  WEBHOOK_KEY_FILE: z.string().optional(),
  /** With this CA file, the operator writes it as caBundle into its webhook configurations. */
  WEBHOOK_CA_FILE: z.string().optional(),
  WEBHOOK_CONFIGURATION_NAME: z.string().min(1).default('wharf-operator'),
  /** The node agent's cache directory and local port on every node (deploy/base/node-agent.yaml). */
  NODE_CACHE_DIR: z.string().startsWith('/', 'must be an absolute path').default('/var/cache/wharf'),
  NODE_AGENT_PORT: port.default(7070),
  INIT_IMAGE: z.string().min(1).default('busybox:1.37'),
  EXECUTOR_IMAGE: z.string().min(1).default('ghcr.io/wharf/wharf-executor:0.1.0'),
  EXECUTOR_PORT: positive(65535).default(8000),
  /** Two replicas never reconcile at once: only the holder of the Lease runs the controller. */
  LEADER_ELECTION: z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1').default('true'),
  /** The Lease's namespace: unset, POD_NAMESPACE (the downward API), else WATCH_NAMESPACE, else wharf-system. */
  LEASE_NAMESPACE: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a namespace name').optional(),
  POD_NAMESPACE: z.string().optional(),
  LEASE_NAME: z.string().regex(/^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/, 'must be an object name').default('wharf-operator'),
  LEASE_DURATION_MS: durationMs(1_000, 300_000).default(15_000),
  RENEW_DEADLINE_MS: durationMs(500, 300_000).default(10_000),
  RETRY_PERIOD_MS: durationMs(100, 60_000).default(2_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type OperatorConfig = z.infer<typeof operatorConfigSchema>;

const SECRETS = new Set(['WHARF_TOKEN']);
export const OPERATOR_VARIABLES = Object.keys(operatorConfigSchema.shape);

export class OperatorConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid operator configuration:\n${problems.map((line) => `  ${line}`).join('\n')}`);
    this.name = 'OperatorConfigError';
  }
}

export function loadOperatorConfig(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const input: Record<string, string> = {};
  for (const name of OPERATOR_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') input[name] = value;
  }
  const shown = (name: string) => (input[name] === undefined ? '(unset)' : SECRETS.has(name) ? '****' : JSON.stringify(input[name]));
  const parsed = operatorConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new OperatorConfigError(parsed.error.issues.map((issue) => `${String(issue.path[0])}=${shown(String(issue.path[0]))}: ${issue.message}`));
  }
  const config = parsed.data;
  const problems: string[] = [];
  if ((config.WEBHOOK_CERT_FILE === undefined) !== (config.WEBHOOK_KEY_FILE === undefined)) {
    problems.push(`WEBHOOK_CERT_FILE=${shown('WEBHOOK_CERT_FILE')}, WEBHOOK_KEY_FILE=${shown('WEBHOOK_KEY_FILE')}: set both or neither`);
  }
  if (config.RETRY_BASE_MS > config.RETRY_MAX_MS) problems.push(`RETRY_BASE_MS=${shown('RETRY_BASE_MS')}: must not exceed RETRY_MAX_MS (${config.RETRY_MAX_MS})`);
  if (!(config.RETRY_PERIOD_MS < config.RENEW_DEADLINE_MS && config.RENEW_DEADLINE_MS < config.LEASE_DURATION_MS)) {
    problems.push(`RENEW_DEADLINE_MS=${shown('RENEW_DEADLINE_MS')}: must lie between RETRY_PERIOD_MS (${config.RETRY_PERIOD_MS}) and LEASE_DURATION_MS (${config.LEASE_DURATION_MS})`);
  }
  if (problems.length > 0) throw new OperatorConfigError(problems);
  return config;
}
