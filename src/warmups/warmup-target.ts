/**
 * What a warm-up asks of the fleet, as the node side reads it. Kept here (the warm-ups room)
 * so that nodes depend on warm-ups and never the other way round.
 */

/** A concrete version, as `project/model@number`. */
export interface VersionTarget {
  project: string;
  model: string;
  version: number;
  manifestDigest: string;
}

export interface WarmupTarget {
  id: string;
  matchLabels: Record<string, string>;
  maxNodes: number | null;
  /** The version the warm-up's reference resolves to now; null when it resolves to nothing. */
  target: VersionTarget | null;
}

export function versionKey(target: { project: string; model: string; version: number }): string {
  return `${target.project}/${target.model}@${target.version}`;
}

/** Kubernetes matchLabels: every pair must be present with the same value; empty matches all. */
export function matchesLabels(labels: Record<string, string>, matchLabels: Record<string, string>): boolean {
  return Object.entries(matchLabels).every(([key, value]) => Object.prototype.hasOwnProperty.call(labels, key) && labels[key] === value);
}
