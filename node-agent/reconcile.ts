/**
 * The difference between what the registry assigns (plus what pods on the node demand) and
 * what the node holds: which versions to pull now and which must not be evicted. Pure, so the
 * agent's loop only applies it.
 */

export type LocalState = 'pending' | 'pulling' | 'ready' | 'evicting' | 'failed';

export interface LocalEntry {
  state: LocalState;
  /** For failed pulls: not before this instant (ms since epoch). */
  retryAt?: number;
}

export interface ReconcileInput {
  assigned: readonly string[];
  /** Versions pods on this node asked for (requests not yet served, and leases). */
  demanded: readonly string[];
  leased: readonly string[];
  entries: ReadonlyMap<string, LocalEntry>;
  now: number;
}

export interface ReconcilePlan {
  /** Start pulling these, in this order. */
  pull: string[];
  /** Never evict these. */
  keep: Set<string>;
}

export function reconcile(input: ReconcileInput): ReconcilePlan {
  const wanted = [...new Set([...input.demanded, ...input.assigned])];
  const pull = wanted.filter((key) => {
    const entry = input.entries.get(key);
    if (!entry || entry.state === 'pending') return true;
    if (entry.state === 'failed') return (entry.retryAt ?? 0) <= input.now;
    return false;
  });
  const keep = new Set([...input.assigned, ...input.leased, ...input.demanded]);
  for (const [key, entry] of input.entries) if (entry.state === 'pulling') keep.add(key);
  return { pull, keep };
}
