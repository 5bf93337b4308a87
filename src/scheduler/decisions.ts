import { CachePolicy } from './pod-model';

/*
 * The extender's decisions as pure functions of the cache index's state: no I/O, no clock of
 * their own (the caller passes `nowMs`), so that table tests cover every rule.
 */

export type EntryState = 'pending' | 'pulling' | 'ready' | 'evicting' | 'failed';

export interface CacheEntry {
  state: EntryState;
  bytesDone: number;
  bytesTotal: number;
}

/** A node as its agent last reported it. */
export interface NodeCacheState {
  name: string;
  budgetBytes: number;
  usedBytes: number;
  /** The last heartbeat, in this process's clock (the index corrects for the database's). */
  lastHeartbeatMs: number;
  /** By version id. */
  entries: ReadonlyMap<string, CacheEntry>;
}

/** The version a pod serves: its id and its size (the sum of its files). */
export interface VersionFacts {
  id: string;
  ref: string;
  bytes: number;
}

export interface ScoringConfig {
  /** An agent silent for longer than this is not ready (NODE_READY_TIMEOUT_SECONDS, in ms). */
  readyTimeoutMs: number;
  /** Versions smaller than this pull in seconds: locality earns them nothing. */
  minBytes: number;
  /** From this size up, a version's locality earns the full score. */
  maxBytes: number;
  /** The share of the score a version held by a single node keeps (0..1); the rest grows with its spread. */
  spreadFloor: number;
}

export interface FilterOutcome {
  passed: string[];
  failed: Record<string, string>;
}

const GIB = 1024 ** 3;
const formatBytes = (bytes: number) => (bytes >= GIB ? `${(bytes / GIB).toFixed(1)} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`);

export const agentReady = (node: NodeCacheState, nowMs: number, config: Pick<ScoringConfig, 'readyTimeoutMs'>) =>
  nowMs - node.lastHeartbeatMs <= config.readyTimeoutMs;

export const holdsReady = (node: NodeCacheState, version: VersionFacts) => node.entries.get(version.id)?.state === 'ready';

/** Bytes of VERSION already on NODE: all of a ready entry, the progress of a pull (0 otherwise). */
export function bytesOnNode(node: NodeCacheState, version: VersionFacts): number {
  const entry = node.entries.get(version.id);
  if (!entry) return 0;
  if (entry.state === 'ready') return version.bytes;
  if (entry.state === 'pulling' || entry.state === 'pending') return Math.min(entry.bytesDone, version.bytes);
  return 0;
}

/** Why NODE cannot take VERSION on budget grounds, or null when it can. A partial pull needs only the rest. */
export function budgetShortfall(node: NodeCacheState, version: VersionFacts, reservedBytes = 0): string | null {
  if (holdsReady(node, version)) return null;
  const needed = version.bytes - bytesOnNode(node, version);
  const free = Math.max(0, node.budgetBytes - node.usedBytes - reservedBytes);
  if (needed <= free) return null;
  const reserved = reservedBytes ? ` (${formatBytes(reservedBytes)} of it reserved for models being placed)` : '';
  return `wharf: ${version.ref} needs ${formatBytes(needed)} of cache, node has ${formatBytes(free)} free of its ${formatBytes(node.budgetBytes)} budget${reserved}`;
}

/**
 * Filter: names the scheduler asked about, minus nodes without a ready agent and nodes whose free
 * budget cannot hold the version. Under `require`, only nodes holding it ready pass, unless no
 * ready-agent node holds it: then the budget rule alone applies and the reasons say so.
 */
export function filterNodes(
  names: readonly string[],
  lookup: (name: string) => NodeCacheState | undefined,
  version: VersionFacts,
  policy: CachePolicy,
  nowMs: number,
  config: ScoringConfig,
  reservedBytes: (name: string) => number = () => 0,
): FilterOutcome {
  const failed: Record<string, string> = {};
  const live: NodeCacheState[] = [];
  for (const name of names) {
    const node = lookup(name);
    if (!node) failed[name] = 'wharf: no Wharf node agent has reported from this node';
    else if (!agentReady(node, nowMs, config)) {
      failed[name] = `wharf: the node agent has been silent for ${Math.round((nowMs - node.lastHeartbeatMs) / 1000)} s (limit ${Math.round(config.readyTimeoutMs / 1000)} s)`;
    } else live.push(node);
  }
  const warm = live.filter((node) => holdsReady(node, version));
  if (policy === 'require' && warm.length > 0) {
    for (const node of live) if (!holdsReady(node, version)) failed[node.name] = `wharf: cache-policy require: ${version.ref} is not ready on this node (it is on ${warm.length} other node(s))`;
    return { passed: warm.map((node) => node.name), failed };
  }
  const fallback = policy === 'require' ? ' (cache-policy require: no node holds it yet, so budget alone decides)' : '';
  const passed: string[] = [];
  for (const node of live) {
    const shortfall = budgetShortfall(node, version, reservedBytes(node.name));
    if (shortfall) failed[node.name] = shortfall + fallback;
    else passed.push(node.name);
  }
  return { passed, failed };
}

/**
 * Prioritize, in the spirit of ImageLocality rescaled for models: the share of the version on the
 * node (a pull counts by its progress), times how much locality is worth at this size (nothing
 * below minBytes, everything from maxBytes), times a damping that grows with the version's spread
 * (holders among the nodes asked about), so that one warm node does not outbid the scheduler's
 * own spreading for every replica. Scores are integers 0..10.
 */
export function scoreNodes(
  names: readonly string[],
  lookup: (name: string) => NodeCacheState | undefined,
  version: VersionFacts,
  config: ScoringConfig,
): { Host: string; Score: number }[] {
  // One pass for the bytes, one for the scores: this runs per pod over every node of the cluster.
  const onNode = new Float64Array(names.length);
  let holders = 0;
  for (let i = 0; i < names.length; i++) {
    const node = lookup(names[i]);
    onNode[i] = node ? bytesOnNode(node, version) : 0;
    if (onNode[i] > 0) holders++;
  }
  const spread = names.length ? holders / names.length : 0;
  const damping = config.spreadFloor + (1 - config.spreadFloor) * spread;
  const sizeWeight = version.bytes <= config.minBytes ? 0 : Math.min(1, (version.bytes - config.minBytes) / Math.max(1, config.maxBytes - config.minBytes));
  const scale = version.bytes > 0 ? (10 * sizeWeight * damping) / version.bytes : 0;
  const scores = new Array<{ Host: string; Score: number }>(names.length);
  for (let i = 0; i < names.length; i++) scores[i] = { Host: names[i], Score: Math.round(onNode[i] * scale) };
  return scores;
}
