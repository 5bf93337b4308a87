import * as path from 'node:path';
import { z } from 'zod';

/**
 * Every environment variable the registry reads, validated once at start.
 * Defaults make `npm start` work with nothing set: embedded Postgres and blobs on local disk
 * under DATA_DIR.
 */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const MIB = 1024 * 1024;

const port = z.coerce.number().int().min(0).max(65535);

const postgresUrl = z
  .string()
  .url()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// or postgresql:// URL');

const httpUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//.test(value), 'must be an http:// or https:// URL');

/** `<requests>/<seconds>s`, or `0` for unlimited: `300/60s`. */
const rateLimitPolicy = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,8}\/[1-9][0-9]{0,5}s)$/, 'must be "<requests>/<seconds>s" (e.g. 300/60s) or 0 for unlimited');

/** An origin as browsers send it: scheme, host and port, no path. */
const ORIGIN = /^https?:\/\/(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?)(:[0-9]{1,5})?$/;

/** `*`, or comma-separated origins: `https://console.example.com, http://localhost:3000`. */
const originList = z
  .string()
  .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
  .refine(
    (origins) => (origins.length === 1 && origins[0] === '*') || origins.every((origin) => ORIGIN.test(origin)),
    'must be * or comma-separated origins such as https://console.example.com (scheme://host[:port], no path)',
  );

export const configSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  WHARF_ADMIN_TOKEN: z
    .string()
    .min(24, 'must be at least 24 characters')
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /**
   * Which proxies in front of the registry to believe about the client's address
   * (X-Forwarded-For), as Express' `trust proxy`: `false`, `true`, a hop count, or addresses and
   * subnets (`loopback`, `10.0.0.0/8`, …). Rate limits of calls without a token key on it.
   */
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|[0-9]{1,2}|[-a-zA-Z0-9.:/, ]+)$/, 'must be true, false, a hop count, or comma-separated addresses/subnets')
    .default('false'),
  /**
   * Web origins whose pages may call the API from a browser (the web console's). Unset: none,
   * and no CORS header is sent.
   */
  CORS_ALLOWED_ORIGINS: originList.default(''),
  MAX_METADATA_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024).default(64 * 1024),
  S3_ENDPOINT: httpUrl.optional(),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
    .default('wharf'),
  S3_ACCESS_KEY: z.string().min(1).optional(),
  S3_SECRET_KEY: z.string().min(1).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_PRESIGNED_DOWNLOADS: booleanString.default('false'),
  /** A node whose agent has not reported for this long is not ready and drops out of locations. */
  NODE_READY_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** Entries of each in-process hot-path cache (resolve, route, tokens). 0 turns caching off. */
  CACHE_MAX_ENTRIES: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  /** Backstop only: entries are invalidated across replicas by LISTEN/NOTIFY as they change. */
  CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  S3_PRESIGNED_TTL_SECONDS: z.coerce.number().int().min(1).max(7 * 24 * 3600).default(900),
  /** Preferred upload part size; raised to ceil(size / 10,000) for huge files. S3: 5 MiB–5 GiB. */
  UPLOAD_PART_SIZE: z.coerce.number().int().min(5 * MIB, 'must be at least 5 MiB (S3 rule)').max(5 * 1024 * MIB, 'must be at most 5 GiB (S3 rule)').default(16 * MIB),
  /**
   * S3 driver: local disk (under DATA_DIR/spool) that copies of parts may take while they wait
   * for the parts before them to be hashed, so that `complete` need not download the whole
   * object to check its sha256. 0 turns the copies off.
   */
  UPLOAD_SPOOL_MAX_BYTES: z.coerce.number().int().min(0).default(2 * 1024 * MIB),
  /** The largest file a version may hold (S3's own object limit is 5 TiB). */
  MAX_FILE_SIZE: z.coerce.number().int().min(1).max(5 * 1024 * 1024 * MIB).default(5 * 1024 * 1024 * MIB),
  /** Storage bytes a project may hold when its own quota is not set; 0 means unlimited. */
  PROJECT_STORAGE_QUOTA: z.coerce.number().int().min(0).default(0),
  /** An upload with no activity for this long expires and is cleaned up. */
  UPLOAD_IDLE_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(24 * 3600),
  /** How often garbage collection runs; 0 disables the periodic job. */
  GC_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(3600),
  /** Unreferenced blobs and stray objects younger than this are left alone. */
  GC_GRACE_SECONDS: z.coerce.number().int().min(0).default(3600),
  // Governance (docs/governance.md): rate limits, the TokenReview webhook, event webhooks.
  REDIS_URL: z
    .string()
    .url()
    .refine((value) => /^rediss?:\/\//.test(value), 'must be a redis:// or rediss:// URL')
    .optional(),
  RATE_LIMIT_ENABLED: booleanString.default('true'),
  RATE_LIMIT_READ: rateLimitPolicy.default('6000/60s'),
  RATE_LIMIT_WRITE: rateLimitPolicy.default('1200/60s'),
  RATE_LIMIT_UPLOAD: rateLimitPolicy.default('12000/60s'),
  // A file's bytes, in ranges: a 70 GiB model is 4,480 range requests per node that pulls it.
  RATE_LIMIT_DOWNLOAD: rateLimitPolicy.default('60000/60s'),
  // One heartbeat per node every 10 s: 60,000 a minute is a fleet of 10,000 nodes on one token.
  RATE_LIMIT_AGENT: rateLimitPolicy.default('60000/60s'),
  RATE_LIMIT_PUBLIC: rateLimitPolicy.default('0'),
  // Failed authentications per client address (unknown, revoked or expired tokens, failed
  // TokenReviews): every guess is a new token, so only the address can carry the budget.
  RATE_LIMIT_AUTH_FAILURES: rateLimitPolicy.default('100/60s'),
  RATE_LIMIT_REDIS_PREFIX: z.string().min(1).max(128).default('wharf:ratelimit:'),
  TOKENREVIEW_BEARER_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  TOKENREVIEW_AUDIENCES: z.string().optional(),
  WEBHOOK_SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  WEBHOOK_DISPATCH_ENABLED: booleanString.default('true'),
  WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(2_000),
  WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(10).max(86_400_000).default(3_600_000),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
  // The scheduler extender (docs/scheduling.md): served only to a caller presenting this token.
  SCHEDULER_EXTENDER_TOKEN: z.string().min(24, 'must be at least 24 characters').regex(/^[A-Za-z0-9_-]+$/, 'must be URL-safe (letters, digits, _ and -): it may travel in the URL path').optional(),
  SCHEDULER_MIN_MODEL_BYTES: z.coerce.number().int().min(0).default(256 * MIB),
  SCHEDULER_FULL_SCORE_BYTES: z.coerce.number().int().min(1).default(8 * 1024 * MIB),
  SCHEDULER_SPREAD_FLOOR: z.coerce.number().min(0).max(1).default(0.5),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface WharfConfig extends RawConfig {
  /** DATA_DIR resolved against the working directory. */
  dataDir: string;
}

/** Variables whose values never appear in error messages or logs. */
const SECRET_VARIABLES = new Set(['WHARF_ADMIN_TOKEN', 'S3_SECRET_KEY', 'S3_ACCESS_KEY', 'TOKENREVIEW_BEARER_TOKEN', 'WEBHOOK_SECRET_KEY', 'SCHEDULER_EXTENDER_TOKEN']);

export const CONFIG_VARIABLES: readonly string[] = Object.keys(configSchema.shape);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((line) => `  ${line}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function displayValue(name: string, value: string | undefined): string {
  if (value === undefined) return '(unset)';
  if (SECRET_VARIABLES.has(name)) return '****';
  if (name === 'DATABASE_URL' || name === 'REDIS_URL') return JSON.stringify(value.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:****@'));
  return JSON.stringify(value);
}

/**
 * Reads the configuration from an environment. Empty strings count as unset, so `FOO=` in a
 * compose file falls back to the default. Throws a ConfigError listing every bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WharfConfig {
  const input: Record<string, string> = {};
  for (const name of CONFIG_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') input[name] = value;
  }
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name}=${displayValue(name, input[name])}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  const config = parsed.data;
  const s3Credentials = [config.S3_ACCESS_KEY, config.S3_SECRET_KEY].filter(Boolean).length;
  if (config.S3_ENDPOINT && s3Credentials !== 2) {
    throw new ConfigError([
      `S3_ACCESS_KEY=${displayValue('S3_ACCESS_KEY', input.S3_ACCESS_KEY)}: S3_ENDPOINT is set, so S3_ACCESS_KEY and S3_SECRET_KEY are required`,
    ]);
  }
  return { ...config, dataDir: path.resolve(config.DATA_DIR) };
}

export const WHARF_CONFIG = Symbol('WHARF_CONFIG');
