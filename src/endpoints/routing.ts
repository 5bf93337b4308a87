import { createHash } from 'node:crypto';

/** What the routing functions need of a route: a stable identity and a weight. */
export interface WeightedRoute {
  /** Stable across updates (the route's reference), so reordering routes moves no key. */
  id: string;
  weight: number;
}

const TWO_POW_48 = 2 ** 48;

/** A uniform number in (0, 1) from a string: the first 48 bits of its sha256. */
export function hashUnit(text: string): number {
  const digest = createHash('sha256').update(text, 'utf8').digest();
  return (digest.readUIntBE(0, 6) + 0.5) / TWO_POW_48;
}

/**
 * Weighted rendezvous hashing (Schindelhauer & Schomaker's logarithmic method): each route
 * scores `-weight / ln(hash(route, key))` and the highest score wins. A route wins a key with
 * probability weight / Σweights, the same key always lands on the same route while the
 * weights stay, and when weights change only keys whose winner changes move: from 90/10 to
 * 80/20 about 10% of keys move (the minimum), all from the shrinking route to the growing
 * one. Returns the index of the winning route; routes with weight 0 never win.
 */
export function rendezvousPick(key: string, routes: readonly WeightedRoute[]): number {
  let best = -1;
  let bestScore = -Infinity;
  for (let index = 0; index < routes.length; index++) {
    const { id, weight } = routes[index];
    if (weight <= 0) continue;
    const score = -weight / Math.log(hashUnit(`${id}\n${key}`));
    if (score > bestScore) {
      best = index;
      bestScore = score;
    }
  }
  if (best < 0) throw new Error('rendezvousPick needs at least one route with a positive weight');
  return best;
}

/** Without a key: each request independently, in proportion to the weights. */
export function weightedRandom(routes: readonly WeightedRoute[], random: () => number = Math.random): number {
  const total = routes.reduce((sum, route) => sum + Math.max(0, route.weight), 0);
  if (total <= 0) throw new Error('weightedRandom needs at least one route with a positive weight');
  let point = random() * total;
  for (let index = 0; index < routes.length; index++) {
    const weight = Math.max(0, routes[index].weight);
    if (point < weight) return index;
    point -= weight;
  }
  // Floating-point leftovers: the last route that can win.
  let last = routes.length - 1;
  while (routes[last].weight <= 0) last--;
  return last;
}

/**
 * Whether a request is also sent to the mirror. With a key the answer is sticky (the same key
 * is always or never mirrored, and raising the percent only adds keys); without, random.
 */
export function mirrored(percent: number, key: string | null, random: () => number = Math.random): boolean {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  const unit = key === null ? random() : hashUnit(`mirror\n${key}`);
  return unit * 100 < percent;
}
