import Redis from 'ioredis';

/**
 * Where async requests and their results live: Redis, one hash per request with a TTL (the result
 * expiry), plus a sorted set of unfinished requests by arrival time (the oldest-age metric).
 * Why Redis: every executor of a deployment must see every status (a poll may land on any
 * replica), a result must survive the executor that produced it, and "first result wins" must
 * be one atomic step so a redelivered message can never replace a stored result; a Lua script
 * gives exactly that, and expiry is Redis' own. Large bodies stay in S3 (payloads.ts); the hash
 * holds a pointer. Run Redis with persistence (appendonly) so results also survive Redis itself.
 */
/**
 * `accepting` is the state between writing the job and the broker's confirm: such a job is not
 * counted as pending, because an executor killed in between never answers 202 and never publishes
 * its message, and the job would hold the pending count and the oldest-age metric up until it expired.
 */
export type JobState = 'accepting' | 'queued' | 'running' | 'succeeded' | 'failed' | 'dead_lettered';
export const FINAL_STATES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'dead_lettered']);

export interface Job {
  id: string;
  state: JobState;
  client: string;
  path: string;
  contentType?: string;
  createdAt: number;
  updatedAt: number;
  attempts: number;
  callbackUrl?: string;
  callbackState?: string;
  error?: string;
  resultStatus?: number;
  resultContentType?: string;
  resultSize?: number;
  /** Small results inline; large ones in S3 under resultKey. */
  resultBody?: Buffer;
  resultKey?: string;
  bodyKey?: string;
}

export interface JobResult {
  state: 'succeeded' | 'failed';
  status: number;
  contentType?: string;
  size: number;
  body?: Buffer;
  key?: string;
}

// KEYS[1] job hash, KEYS[2] pending set. ARGV: now, attempts. Returns the job, or nothing when unknown.
// A message may arrive before its publisher marked the job queued: it is counted pending from here.
const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'accepting' then
  redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'createdAt'), string.sub(KEYS[1], -36))
end
if state == 'accepting' or state == 'queued' or state == 'running' then
  redis.call('HSET', KEYS[1], 'state', 'running', 'attempts', ARGV[2], 'updatedAt', ARGV[1])
end
return redis.call('HGETALL', KEYS[1])`;

// The broker confirmed the job's message: it counts as pending (unless a worker already took it).
// KEYS[1] job, KEYS[2] pending. ARGV: now.
const MARK_QUEUED = `
if redis.call('HGET', KEYS[1], 'state') ~= 'accepting' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'queued', 'updatedAt', ARGV[1])
redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'createdAt'), string.sub(KEYS[1], -36))
return 1`;

// First final state wins. KEYS[1] job, KEYS[2] pending. ARGV: ttlMs, then field/value pairs.
const FINISH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'succeeded' or state == 'failed' or state == 'dead_lettered' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], string.sub(KEYS[1], -36))
return 1`;

// KEYS[1] idempotency key. ARGV: value, ttlMs, takeover-before (ms). Nil when claimed (or taken
// over from a stale pending claim); else the holder's value.
const CLAIM_KEY = `
local held = redis.call('GET', KEYS[1])
if held then
  local _, _, state, at = string.find(held, '^%S+ %S+ (%S+) (%d+)$')
  if state ~= 'pending' or tonumber(at) >= tonumber(ARGV[3]) then return held end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return nil`;

export class JobStore {
  readonly redis: Redis;
  private readonly prefix: string;

  constructor(url: string, deployment: string, private readonly ttlMs: number) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 3, enableOfflineQueue: true, lazyConnect: false });
    this.redis.on('error', () => undefined); // ioredis reconnects by itself; calls fail meanwhile
    this.prefix = `wharf:executor:${deployment}:`;
    this.redis.defineCommand('claimJob', { numberOfKeys: 2, lua: CLAIM });
    this.redis.defineCommand('markQueued', { numberOfKeys: 2, lua: MARK_QUEUED });
    this.redis.defineCommand('finishJob', { numberOfKeys: 2, lua: FINISH });
    this.redis.defineCommand('claimKey', { numberOfKeys: 1, lua: CLAIM_KEY });
  }

  private key(id: string): string {
    return `${this.prefix}job:${id}`;
  }
  private get pendingKey(): string {
    return `${this.prefix}pending`;
  }

  async create(job: Pick<Job, 'id' | 'client' | 'path' | 'contentType' | 'callbackUrl' | 'bodyKey'>): Promise<void> {
    const now = Date.now();
    const fields: Record<string, string> = { id: job.id, state: 'accepting', client: job.client, path: job.path, createdAt: String(now), updatedAt: String(now), attempts: '0' };
    if (job.contentType) fields.contentType = job.contentType;
    if (job.callbackUrl) fields.callbackUrl = job.callbackUrl;
    if (job.bodyKey) fields.bodyKey = job.bodyKey;
    await this.redis.multi().hset(this.key(job.id), fields).pexpire(this.key(job.id), this.ttlMs).exec();
  }

  /** The broker confirmed the job's message: from now on it is pending until a result is stored. */
  async markQueued(id: string): Promise<void> {
    await (this.redis as Redis & { markQueued(...args: unknown[]): Promise<number> }).markQueued(this.key(id), this.pendingKey, Date.now());
  }

  /**
   * Claims an idempotency key for a client. Answers null when this request takes it; else the
   * holder: its job id and body digest, and whether its message was confirmed ("queued") or the
   * holder is still on its way ("pending"). A pending claim older than `takeoverMs` belonged to
   * an executor that died between claiming and publishing: this request takes it over.
   */
  async claimIdempotencyKey(client: string, key: string, id: string, digest: string, takeoverMs = 10_000): Promise<{ id: string; digest: string; state: string } | null> {
    const name = this.idempotencyName(client, key);
    const claimed = await (this.redis as Redis & { claimKey(...args: unknown[]): Promise<string | null> }).claimKey(name, `${id} ${digest} pending ${Date.now()}`, this.ttlMs, Date.now() - takeoverMs);
    if (claimed === null) return null;
    const [heldId, heldDigest, state] = claimed.split(' ');
    return { id: heldId, digest: heldDigest, state };
  }

  /** The holder's message is confirmed: replays answer its id from now on. */
  async confirmIdempotencyKey(client: string, key: string, id: string, digest: string): Promise<void> {
    await this.redis.set(this.idempotencyName(client, key), `${id} ${digest} queued ${Date.now()}`, 'PX', this.ttlMs);
  }

  async releaseIdempotencyKey(client: string, key: string): Promise<void> {
    await this.redis.del(this.idempotencyName(client, key));
  }

  private idempotencyName(client: string, key: string): string {
    return `${this.prefix}idem:${client}:${key}`;
  }

  async get(id: string): Promise<Job | null> {
    const raw = await this.redis.hgetallBuffer(this.key(id));
    return Object.keys(raw).length ? decode(raw) : null;
  }

  /** Marks a job running for this attempt; null when it is unknown (expired, or never accepted). */
  async claim(id: string, attempts: number): Promise<Job | null> {
    const raw = (await (this.redis as Redis & { claimJobBuffer(...args: unknown[]): Promise<Buffer[] | null> }).claimJobBuffer(this.key(id), this.pendingKey, Date.now(), attempts)) ?? null;
    if (!raw) return null;
    const fields: Record<string, Buffer> = {};
    for (let i = 0; i < raw.length; i += 2) fields[raw[i].toString()] = raw[i + 1];
    return decode(fields);
  }

  async noteFailure(id: string, error: string): Promise<void> {
    await this.redis.hset(this.key(id), 'error', error, 'updatedAt', Date.now());
  }

  /** Stores the outcome unless one is already stored: true when this call stored it. */
  async finish(id: string, outcome: JobResult | { state: 'dead_lettered'; error: string }): Promise<boolean> {
    const fields: (string | Buffer | number)[] = ['state', outcome.state, 'updatedAt', Date.now(), 'completedAt', Date.now()];
    if (outcome.state === 'dead_lettered') fields.push('error', outcome.error);
    else {
      fields.push('resultStatus', outcome.status, 'resultSize', outcome.size);
      if (outcome.contentType) fields.push('resultContentType', outcome.contentType);
      if (outcome.body) fields.push('resultBody', outcome.body);
      if (outcome.key) fields.push('resultKey', outcome.key);
    }
    const stored = await (this.redis as Redis & { finishJob(...args: unknown[]): Promise<number> }).finishJob(this.key(id), this.pendingKey, this.ttlMs, ...fields);
    return stored === 1;
  }

  async setCallbackState(id: string, state: string): Promise<void> {
    await this.redis.hset(this.key(id), 'callbackState', state);
  }

  /** Unfinished jobs and the arrival time of the oldest (for the metrics). */
  async pending(): Promise<{ count: number; oldestAt?: number }> {
    const [[, count], [, oldest]] = (await this.redis.multi().zcard(this.pendingKey).zrange(this.pendingKey, 0, 0, 'WITHSCORES').exec()) as [[null, number], [null, string[]]];
    // Entries of jobs that expired unfinished would hold the age up forever: drop them.
    if (oldest.length && !(await this.redis.exists(this.key(oldest[0])))) {
      await this.redis.zrem(this.pendingKey, oldest[0]);
      return this.pending();
    }
    return { count, oldestAt: oldest.length ? Number(oldest[1]) : undefined };
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function decode(raw: Record<string, Buffer>): Job {
  const text = (name: string) => raw[name]?.toString();
  const number = (name: string) => (raw[name] === undefined ? undefined : Number(raw[name].toString()));
  return {
    id: text('id')!,
    state: text('state') as JobState,
    client: text('client') ?? '',
    path: text('path') ?? '/',
    contentType: text('contentType'),
    createdAt: number('createdAt') ?? 0,
    updatedAt: number('updatedAt') ?? 0,
    attempts: number('attempts') ?? 0,
    callbackUrl: text('callbackUrl'),
    callbackState: text('callbackState'),
    error: text('error'),
    resultStatus: number('resultStatus'),
    resultContentType: text('resultContentType'),
    resultSize: number('resultSize'),
    resultBody: raw.resultBody,
    resultKey: text('resultKey'),
    bodyKey: text('bodyKey'),
  };
}
