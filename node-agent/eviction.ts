/**
 * Which versions to evict: a pure function of what is on disk, what must stay, the recency
 * order and the budget. Eviction starts when usage passes the high watermark and goes on,
 * least recently used first, until usage is at or under the low watermark (or nothing more
 * may go). Files shared by versions are stored once, so a version frees only the blobs no
 * other remaining version links.
 */

export interface CachedVersion {
  key: string;
  blobs: readonly { sha256: string; size: number }[];
  /** Assigned to the node or held by a lease: never evicted. */
  protected: boolean;
}

export interface EvictionInput {
  versions: readonly CachedVersion[];
  /** Keys, least recently used first; versions missing here count as least recent of all. */
  lru: readonly string[];
  usedBytes: number;
  budgetBytes: number;
  highWatermark: number;
  lowWatermark: number;
}

export interface EvictionPlan {
  evict: string[];
  /** Bytes the plan frees. */
  freedBytes: number;
  /** Usage after the plan; above the low watermark when protected versions fill the disk. */
  usedAfter: number;
}

export function planEviction(input: EvictionInput): EvictionPlan {
  const plan: EvictionPlan = { evict: [], freedBytes: 0, usedAfter: input.usedBytes };
  if (input.usedBytes <= input.budgetBytes * input.highWatermark) return plan;
  const target = input.budgetBytes * input.lowWatermark;

  const references = new Map<string, number>();
  for (const version of input.versions) {
    for (const blob of new Map(version.blobs.map((b) => [b.sha256, b])).values()) {
      references.set(blob.sha256, (references.get(blob.sha256) ?? 0) + 1);
    }
  }
  const rank = new Map(input.lru.map((key, index) => [key, index]));
  const candidates = input.versions
    .filter((version) => !version.protected)
    .sort((a, b) => (rank.get(a.key) ?? -1) - (rank.get(b.key) ?? -1) || (a.key < b.key ? -1 : 1));

  for (const version of candidates) {
    if (plan.usedAfter <= target) break;
    let freed = 0;
    for (const blob of new Map(version.blobs.map((b) => [b.sha256, b])).values()) {
      const left = references.get(blob.sha256)! - 1;
      references.set(blob.sha256, left);
      if (left === 0) freed += blob.size;
    }
    plan.evict.push(version.key);
    plan.freedBytes += freed;
    plan.usedAfter -= freed;
  }
  return plan;
}
