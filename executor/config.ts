import { z } from 'zod';

/**
 * The executor's configuration, validated once at start (the operator injects these variables
 * into the sidecar as documented in docs/executor.md). Every bad variable is listed as
 * `NAME=value: reason`, secrets masked. Durations accept `ms`, `s`, `m`, `h` (bare numbers are
 * seconds); byte sizes accept `Ki`, `Mi`, `Gi`, `k`, `M`, `G`.
 */
const UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3, ti: 1024 ** 4 };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseBytes(raw: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?$/i.exec(raw.trim());
  if (!match) return undefined;
  const value = Math.floor(Number(match[1]) * UNITS[(match[2] ?? '').toLowerCase()]);
  return Number.isSafeInteger(value) ? value : undefined;
}

export function parseDuration(raw: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? 's']);
}

const bytes = (min: number) =>
  z.string().transform((raw, ctx) => {
    const value = parseBytes(raw);
    if (value === undefined || value < min) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a byte size of at least ${min}, such as 10Mi or 1Gi` });
    return value ?? 0;
  });
const duration = (min: number, max: number) =>
  z.string().transform((raw, ctx) => {
    const value = parseDuration(raw);
    if (value === undefined || value < min || value > max) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a duration between ${min} ms and ${max} ms, such as 30s or 500ms` });
    }
    return value ?? 0;
  });
const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const booleanString = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const httpUrl = z.string().url().refine((value) => /^https?:\/\//.test(value), 'must be an http:// or https:// URL');
const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower-case letters, digits, -)');

/** `<requests>/<seconds>s` with an optional burst `+<n>`, or `0` for unlimited: `100/1s`, `600/60s+50`. */
const rateLimit = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,8}\/[1-9][0-9]{0,5}s(\+[1-9][0-9]{0,8})?)$/, 'must be "<requests>/<seconds>s[+burst]" (e.g. 100/1s) or 0 for unlimited')
  .transform((raw) => {
    if (raw === '0') return null;
    const [, requests, seconds, burst] = /^(\d+)\/(\d+)s(?:\+(\d+))?$/.exec(raw)!;
    return { perSecond: Number(requests) / Number(seconds), burst: Number(burst ?? requests) };
  });

export const executorConfigSchema = z.object({
  /** Where callers reach the executor (the pod's serving port). */
  EXECUTOR_HOST: z.string().min(1).default('0.0.0.0'),
  EXECUTOR_PORT: count(0, 65535).default(8000),
  /** The model server beside it, on localhost. */
  UPSTREAM_URL: httpUrl.default('http://127.0.0.1:8080'),
  /** The model server's own readiness path; the executor is ready only while it answers 2xx. */
  UPSTREAM_READINESS_PATH: z.string().regex(/^\//, 'must start with /').default('/healthz'),
  READINESS_INTERVAL: duration(50, 60_000).default('1s'),
  /** Keep-alive sockets kept open to the model server. */
  UPSTREAM_MAX_SOCKETS: count(1, 4096).default(256),
  /** No response headers from the model within this time: 504. */
  UPSTREAM_TIMEOUT: duration(100, 3_600_000).default('60s'),
  /** No byte either way for this long on a request in progress: the exchange is abandoned. */
  IDLE_TIMEOUT: duration(100, 3_600_000).default('120s'),
  /** Requests at the model at once (Knative's containerConcurrency); 0 is unlimited. */
  CONCURRENCY: count(0, 100_000).default(16),
  /** Requests waiting for a slot; beyond this, 503 with Retry-After. */
  QUEUE_DEPTH: count(0, 1_000_000).default(64),
  /** How long a request may wait for a slot before 503. */
  QUEUE_TIMEOUT: duration(1, 3_600_000).default('10s'),
  MAX_REQUEST_BYTES: bytes(1).default('2Gi'),
  /**
   * After SIGTERM, readiness fails at once but requests are still served this long, while
   * Kubernetes takes the pod out of its Service endpoints; then the listener closes.
   */
  SHUTDOWN_DELAY: duration(0, 600_000).default('5s'),
  /** Time in-flight requests get to finish once the listener is closed. */
  DRAIN_TIMEOUT: duration(0, 3_600_000).default('30s'),

  /** The deployment this executor serves: names its queue and scopes its callers. */
  DEPLOYMENT: dnsLabel.default('default'),
  /** The project the deployment belongs to; a token must have a role in it. */
  PROJECT: dnsLabel.optional(),
  REGISTRY_URL: httpUrl.optional(),
  /** The bearer token the registry's TokenReview endpoint expects (TOKENREVIEW_BEARER_TOKEN there). */
  REGISTRY_TOKENREVIEW_TOKEN: z.string().min(1).optional(),
  /** How long a token's review is reused; a revoked token stops working within this time. */
  TOKEN_CACHE_TTL: duration(0, 60_000).default('1s'),
  ALLOW_ANONYMOUS: booleanString.default('false'),
  /** Per client (token principal, or address when anonymous). */
  RATE_LIMIT: rateLimit.default('0'),

  AMQP_URL: z.string().regex(/^amqps?:\/\//, 'must be an amqp:// or amqps:// URL').optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  S3_ENDPOINT: httpUrl.optional(),
  S3_ACCESS_KEY: z.string().min(1).optional(),
  S3_SECRET_KEY: z.string().min(1).optional(),
  S3_BUCKET: z.string().min(3).max(63).default('wharf-executor'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  /** Bodies and results up to this size travel in the message / the job record; larger ones in S3. */
  ASYNC_INLINE_BYTES: bytes(0).default('64Ki'),
  ASYNC_MAX_ATTEMPTS: count(1, 100).default(5),
  ASYNC_RESULT_TTL: duration(1000, 30 * 86_400_000).default('24h'),
  /** Messages taken from the queue at once (prefetch); defaults to CONCURRENCY. */
  ASYNC_CONCURRENCY: count(1, 10_000).optional(),
  CALLBACK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  CALLBACK_MAX_ATTEMPTS: count(1, 50).default(8),
  CALLBACK_TIMEOUT: duration(100, 600_000).default('10s'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Access logs of 2xx answers to /healthz, /readyz and /metrics are left out unless true. */
  LOG_PROBES: booleanString.default('false'),
});

export type ExecutorConfig = z.infer<typeof executorConfigSchema>;

const SECRETS = new Set(['REGISTRY_TOKENREVIEW_TOKEN', 'S3_SECRET_KEY', 'CALLBACK_SECRET']);
const URLS_WITH_PASSWORDS = new Set(['AMQP_URL', 'REDIS_URL']);
export const EXECUTOR_VARIABLES = Object.keys(executorConfigSchema.shape);

export class ExecutorConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid executor configuration:\n${problems.map((line) => `  ${line}`).join('\n')}`);
    this.name = 'ExecutorConfigError';
  }
}

function shown(name: string, value: string | undefined): string {
  if (value === undefined) return '(unset)';
  if (SECRETS.has(name)) return '****';
  if (URLS_WITH_PASSWORDS.has(name)) return JSON.stringify(value.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:****@'));
  return JSON.stringify(value);
}

/** Rules between variables: what each feature needs once it is switched on. */
function crossChecks(config: ExecutorConfig, input: Record<string, string>): string[] {
  const problems: string[] = [];
  const need = (name: keyof ExecutorConfig, why: string) => {
    if (config[name] === undefined) problems.push(`${name}=${shown(name, input[name])}: required ${why}`);
  };
  if (!config.ALLOW_ANONYMOUS) {
    need('REGISTRY_URL', 'unless ALLOW_ANONYMOUS=true (tokens are checked against the registry)');
    need('REGISTRY_TOKENREVIEW_TOKEN', 'unless ALLOW_ANONYMOUS=true (the registry answers TokenReview only to its caller token)');
  }
  if (config.AMQP_URL) {
    need('REDIS_URL', 'when AMQP_URL is set (async job records live in Redis)');
    if (config.S3_ENDPOINT) {
      need('S3_ACCESS_KEY', 'when S3_ENDPOINT is set');
      need('S3_SECRET_KEY', 'when S3_ENDPOINT is set');
    } else {
      problems.push(`S3_ENDPOINT=(unset): required when AMQP_URL is set (async bodies and results above ASYNC_INLINE_BYTES live in S3)`);
    }
  }
  return problems;
}

export function loadExecutorConfig(env: NodeJS.ProcessEnv = process.env): ExecutorConfig {
  const input: Record<string, string> = {};
  for (const name of EXECUTOR_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') input[name] = value;
  }
  const parsed = executorConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new ExecutorConfigError(parsed.error.issues.map((issue) => `${String(issue.path[0])}=${shown(String(issue.path[0]), input[String(issue.path[0])])}: ${issue.message}`));
  }
  const problems = crossChecks(parsed.data, input);
  if (problems.length) throw new ExecutorConfigError(problems);
  return parsed.data;
}
