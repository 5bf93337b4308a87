import { createHash } from 'node:crypto';
import { matchesLabels, VersionTarget, versionKey, WarmupTarget } from '../warmups/warmup-target';

export { matchesLabels, versionKey } from '../warmups/warmup-target';
export type { VersionTarget, WarmupTarget } from '../warmups/warmup-target';

/**
 * Which versions a node must hold, and which nodes a capped warm-up uses: pure functions.
 * The registry keeps each capped warm-up's chosen nodes in Postgres (warmup_assignments) and
 * chooses again only when the warm-up, the eligible nodes or their readiness change, so a
 * heartbeat costs what the node itself is assigned, not what the fleet holds.
 */

export type EntryState = 'pending' | 'pulling' | 'ready' | 'evicting' | 'failed';

export interface NodeView {
  name: string;
  labels: Record<string, string>;
  /** State of each version the node reports, by versionKey. */
  holds: ReadonlyMap<string, EntryState>;
}

export interface Demand {
  target: VersionTarget;
  reason: 'request' | 'lease';
}

export interface Assignment extends VersionTarget {
  /** Why the node holds it: `warmup:<id>`, `request`, `lease`. */
  reasons: string[];
}

/** The rendezvous (highest random weight) score of a node for a warm-up; lower ranks first. */
function rendezvous(warmupId: string, node: string): string {
  return createHash('sha256').update(`${warmupId}\n${node}`).digest('hex');
}

export interface Placement {
  /** The warm-up's nodes after this placement. */
  chosen: string[];
  added: string[];
  removed: string[];
}

/**
 * Places a capped warm-up with the least movement. Nodes rank: already placed and holding the
 * version ready, then holding it ready (moving there costs no bytes), then already placed,
 * then pulling it, then the rest by rendezvous hash. So a node joining moves nothing from a
 * warm-up that is full (unless it already holds the bytes), and a node leaving frees only its
 * own places, each filled by the next node in that warm-up's hash order. A warm-up whose
 * reference names nothing now is still placed (by hash), so it has nodes when it resolves.
 */
export function placeWarmup(warmup: WarmupTarget, current: readonly string[], eligible: readonly NodeView[]): Placement {
  const placed = new Set(current);
  const key = warmup.target ? versionKey(warmup.target) : null;
  const ranked = eligible.map((node) => {
    const state = key ? node.holds.get(key) : undefined;
    const here = placed.has(node.name);
    const rank = state === 'ready' ? (here ? 0 : 1) : here ? 2 : state === 'pulling' || state === 'pending' ? 3 : 4;
    return { name: node.name, rank, hash: rendezvous(warmup.id, node.name) };
  });
  ranked.sort((a, b) => a.rank - b.rank || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0) || (a.name < b.name ? -1 : 1));
  const chosen = ranked.slice(0, warmup.maxNodes ?? ranked.length).map((node) => node.name);
  const chosenSet = new Set(chosen);
  return { chosen, added: chosen.filter((name) => !placed.has(name)), removed: current.filter((name) => !chosenSet.has(name)) };
}

/**
 * The assignments of `node`: every uncapped warm-up its labels match, the capped warm-ups
 * that placed it (`placed`, by warm-up id), and its own demands.
 */
export function assignmentsFor(node: NodeView, warmups: readonly WarmupTarget[], placed: ReadonlySet<string>, demands: readonly Demand[]): Assignment[] {
  const byKey = new Map<string, Assignment>();
  const add = (target: VersionTarget, reason: string) => {
    const key = versionKey(target);
    const existing = byKey.get(key);
    if (existing) {
      if (!existing.reasons.includes(reason)) existing.reasons.push(reason);
    } else {
      byKey.set(key, { ...target, reasons: [reason] });
    }
  };
  for (const warmup of warmups) {
    if (!warmup.target || !matchesLabels(node.labels, warmup.matchLabels)) continue;
    if (warmup.maxNodes !== null && !placed.has(warmup.id)) continue;
    add(warmup.target, `warmup:${warmup.id}`);
  }
  for (const demand of demands) add(demand.target, demand.reason);
  return [...byKey.values()]
    .map((assignment) => ({ ...assignment, reasons: [...assignment.reasons].sort() }))
    .sort((a, b) => (versionKey(a) < versionKey(b) ? -1 : versionKey(a) > versionKey(b) ? 1 : 0));
}
