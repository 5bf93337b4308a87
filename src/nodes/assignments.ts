import { createHash } from 'node:crypto';

/**
 * Which versions a node must hold: a pure function of the warm-ups, the ready nodes with what
 * they hold, and the node's own demands (on-demand requests and leases from pods on it). The
 * registry calls it on every heartbeat; no state is kept between calls, so any replica gives
 * the same answer for the same inputs.
 */

export type EntryState = 'pending' | 'pulling' | 'ready' | 'evicting' | 'failed';

/** A concrete version, as `project/model@number`. */
export interface VersionTarget {
  project: string;
  model: string;
  version: number;
  manifestDigest: string;
}

export interface NodeView {
  name: string;
  labels: Record<string, string>;
  /** State of each version the node reports, by versionKey. */
  holds: ReadonlyMap<string, EntryState>;
}

export interface WarmupTarget {
  id: string;
  matchLabels: Record<string, string>;
  maxNodes: number | null;
  /** The version the warm-up's reference resolves to now; null when it resolves to nothing. */
  target: VersionTarget | null;
}

export interface Demand {
  target: VersionTarget;
  reason: 'request' | 'lease';
}

export interface Assignment extends VersionTarget {
  /** Why the node holds it: `warmup:<id>`, `request`, `lease`. */
  reasons: string[];
}

export function versionKey(target: { project: string; model: string; version: number }): string {
  return `${target.project}/${target.model}@${target.version}`;
}

/** Kubernetes matchLabels: every pair must be present with the same value; empty matches all. */
export function matchesLabels(labels: Record<string, string>, matchLabels: Record<string, string>): boolean {
  return Object.entries(matchLabels).every(([key, value]) => Object.prototype.hasOwnProperty.call(labels, key) && labels[key] === value);
}

const HOLD_RANK: Record<EntryState, number> = { ready: 0, pulling: 1, pending: 1, evicting: 2, failed: 2 };

/**
 * The nodes a warm-up with maxNodes uses, in a deterministic order: nodes already holding the
 * version (ready first, then pulling), then the rest by rendezvous hash of (warm-up, node), so
 * warm-ups spread over the nodes and a node leaving moves only its own share.
 */
export function chooseNodes(warmup: WarmupTarget, eligible: readonly NodeView[]): string[] {
  if (!warmup.target) return [];
  const key = versionKey(warmup.target);
  const ranked = eligible.map((node) => {
    const state = node.holds.get(key);
    return {
      name: node.name,
      rank: state ? HOLD_RANK[state] : 2,
      hash: createHash('sha256').update(`${warmup.id}\n${node.name}`).digest('hex'),
    };
  });
  ranked.sort((a, b) => a.rank - b.rank || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0) || (a.name < b.name ? -1 : 1));
  const limit = warmup.maxNodes ?? ranked.length;
  return ranked.slice(0, limit).map((node) => node.name);
}

/**
 * The assignments of `node`. `nodes` are the ready nodes (the node itself included); warm-ups
 * without maxNodes only need the node's own labels.
 */
export function assignmentsFor(node: NodeView, warmups: readonly WarmupTarget[], nodes: readonly NodeView[], demands: readonly Demand[]): Assignment[] {
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
  const others = nodes.some((candidate) => candidate.name === node.name) ? nodes : [...nodes, node];
  for (const warmup of warmups) {
    if (!warmup.target || !matchesLabels(node.labels, warmup.matchLabels)) continue;
    if (warmup.maxNodes !== null) {
      const eligible = others.filter((candidate) => matchesLabels(candidate.labels, warmup.matchLabels));
      if (!chooseNodes(warmup, eligible).includes(node.name)) continue;
    }
    add(warmup.target, `warmup:${warmup.id}`);
  }
  for (const demand of demands) add(demand.target, demand.reason);
  return [...byKey.values()]
    .map((assignment) => ({ ...assignment, reasons: [...assignment.reasons].sort() }))
    .sort((a, b) => (versionKey(a) < versionKey(b) ? -1 : versionKey(a) > versionKey(b) ? 1 : 0));
}
