import * as path from 'node:path';
import { z } from 'zod';
import { parseQuantity, QuantityError } from '../kube-runtime/quantity';

/**
 * The node agent's configuration, validated once at start. Every bad variable is listed as
 * `NAME=value: reason`, secrets masked. Byte sizes are Kubernetes quantities (`50Gi`, `500M`,
 * `1e9`, or plain bytes; kube-runtime/quantity.ts), the same rules the registry's quotas follow;
 * durations accept `ms`, `s`, `m`, `h`.
 */
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A byte size as a Kubernetes quantity, or the reason it is not one (`500m` is 0.5: refused). */
export function readBytes(raw: string): { bytes: number } | { problem: string } {
  try {
    return { bytes: parseQuantity(raw.trim(), 'bytes') };
  } catch (error) {
    if (error instanceof QuantityError) return { problem: error.message };
    throw error;
  }
}

/** A byte size, or undefined when it is not a whole number of bytes by Kubernetes' quantity rules. */
export function parseBytes(raw: string): number | undefined {
  const read = readBytes(raw);
  return 'bytes' in read ? read.bytes : undefined;
}

/** `60s`, `500ms`, `2m`, `1h`; a bare number is seconds. */
export function parseDuration(raw: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? 's']);
}

/** `gpu=a100,zone=eu-1a` → labels (Kubernetes syntax is checked by the registry). */
export function parseLabels(raw: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  for (const term of raw.split(',').map((part) => part.trim()).filter(Boolean)) {
    const eq = term.indexOf('=');
    if (eq <= 0) return undefined;
    labels[term.slice(0, eq).trim()] = term.slice(eq + 1).trim();
  }
  return labels;
}

const bytes = z.string().transform((raw, ctx) => {
  const read = readBytes(raw);
  if ('problem' in read) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a byte size, a Kubernetes quantity such as 50Gi, 500M or 1048576: ${read.problem}` });
  return 'bytes' in read ? read.bytes : 0;
});
const duration = (min: number, max: number) =>
  z.string().transform((raw, ctx) => {
    const value = parseDuration(raw);
    if (value === undefined || value < min || value > max) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a duration between ${min} ms and ${max} ms, such as 10s or 500ms` });
    }
    return value ?? 0;
  });
const fraction = z.coerce.number().gt(0).max(1);
const count = (max: number) => z.coerce.number().int().min(1).max(max);
const booleanString = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

export const agentConfigSchema = z.object({
  /** From the downward API (spec.nodeName) in a cluster. */
  NODE_NAME: z
    .string()
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a Kubernetes node name (DNS-1123 subdomain)'),
  REGISTRY_URL: z
    .string()
    .url()
    .refine((value) => /^https?:\/\//.test(value), 'must be an http:// or https:// URL'),
  WHARF_TOKEN: z.string().min(1),
  CACHE_DIR: z.string().min(1).default('/var/cache/wharf'),
  CACHE_BUDGET: bytes.default('50Gi'),
  HIGH_WATERMARK: fraction.default(0.9),
  LOW_WATERMARK: fraction.default(0.75),
  /** Parallel range requests for one file, and for the whole agent. */
  FILE_CONCURRENCY: count(64).default(4),
  PULL_CONCURRENCY: count(256).default(8),
  CHUNK_SIZE: bytes.default('16Mi'),
  /** Bytes per second for all pulls together; 0 means unlimited. */
  PULL_RATE_LIMIT: bytes.default('0'),
  HEARTBEAT_INTERVAL: duration(50, 600_000).default('10s'),
  HEARTBEAT_MAX_BACKOFF: duration(50, 3_600_000).default('2m'),
  /** How often every ready file is hashed again; 0 disables scrubbing. */
  SCRUB_INTERVAL: duration(0, 7 * 86_400_000).default('6h'),
  /** Hash every cached file at start (slow on big caches; sizes are always checked). */
  VERIFY_ON_START: booleanString.default('false'),
  /** Labels outside a cluster (in a cluster they are read from the Node object). */
  NODE_LABELS: z
    .string()
    .default('')
    .transform((raw, ctx) => {
      const labels = parseLabels(raw);
      if (!labels) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be key=value pairs separated by commas' });
      return labels ?? {};
    }),
  KUBERNETES_SERVICE_HOST: z.string().optional(),
  /** How often labels are read again from the Node object in a cluster. */
  LABEL_REFRESH: duration(1000, 3_600_000).default('60s'),
  AGENT_HOST: z.string().min(1).default('0.0.0.0'),
  AGENT_PORT: z.coerce.number().int().min(0).max(65535).default(7070),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type AgentConfig = z.infer<typeof agentConfigSchema> & { cacheDir: string };

const SECRETS = new Set(['WHARF_TOKEN']);
export const AGENT_VARIABLES = Object.keys(agentConfigSchema.shape);

export class AgentConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid node agent configuration:\n${problems.map((line) => `  ${line}`).join('\n')}`);
    this.name = 'AgentConfigError';
  }
}

export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const input: Record<string, string> = {};
  for (const name of AGENT_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') input[name] = value;
  }
  const shown = (name: string) => (input[name] === undefined ? '(unset)' : SECRETS.has(name) ? '****' : JSON.stringify(input[name]));
  const parsed = agentConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new AgentConfigError(parsed.error.issues.map((issue) => `${String(issue.path[0])}=${shown(String(issue.path[0]))}: ${issue.message}`));
  }
  const config = parsed.data;
  const problems: string[] = [];
  if (config.LOW_WATERMARK >= config.HIGH_WATERMARK) {
    problems.push(`LOW_WATERMARK=${shown('LOW_WATERMARK')}: must be below HIGH_WATERMARK (${config.HIGH_WATERMARK})`);
  }
  if (config.CACHE_BUDGET <= 0) problems.push(`CACHE_BUDGET=${shown('CACHE_BUDGET')}: must be more than 0 bytes`);
  if (config.CHUNK_SIZE < 64 * 1024) problems.push(`CHUNK_SIZE=${shown('CHUNK_SIZE')}: must be at least 64Ki`);
  if (problems.length) throw new AgentConfigError(problems);
  return { ...config, cacheDir: path.resolve(config.CACHE_DIR) };
}
