// The registry's sticky routing (src/endpoints/routing.ts), redone in the browser to preview how
// many keys a split change moves before it is saved. test/console/key-moves.test.ts holds the
// two to the same answers.
import { sha256 } from './sha256';

export interface WeightedRoute {
  /** The route's stored reference (`project/model:tag`), the registry's hash input. */
  id: string;
  weight: number;
}

const TWO_POW_48 = 2 ** 48;

export function hashUnit(text: string): number {
  const d = sha256(text);
  const first48 = d[0] * 2 ** 40 + d[1] * 2 ** 32 + d[2] * 2 ** 24 + d[3] * 2 ** 16 + d[4] * 2 ** 8 + d[5];
  return (first48 + 0.5) / TWO_POW_48;
}

/** The index of the route that serves `key`, or -1 when no route has weight. */
export function rendezvousPick(key: string, routes: readonly WeightedRoute[]): number {
  let best = -1;
  let bestScore = -Infinity;
  routes.forEach(({ id, weight }, index) => {
    if (weight <= 0) return;
    const score = -weight / Math.log(hashUnit(`${id}\n${key}`));
    if (score > bestScore) {
      best = index;
      bestScore = score;
    }
  });
  return best;
}

export interface KeyMovePreview {
  sampled: number;
  /** Keys whose route changes. */
  moved: number;
  /**
   * Of those, keys whose served version changes, when both routes' versions are known: a key moved
   * from `model:prod` to `model@2` while prod points at 2 keeps its version.
   */
  versionChanged: number;
  /** Keys each route (by id) gains minus keys it loses. */
  netByRoute: Record<string, number>;
}

/**
 * How many of `sampled` synthetic sticky keys change route when `before` becomes `after`, and how
 * many of them change version (`versionOf` knows what a route serves today).
 */
export function previewKeyMoves(
  before: readonly WeightedRoute[],
  after: readonly WeightedRoute[],
  sampled = 2000,
  versionOf: (id: string) => number | undefined = () => undefined,
): KeyMovePreview {
  const netByRoute: Record<string, number> = {};
  let moved = 0;
  let versionChanged = 0;
  for (let i = 0; i < sampled; i++) {
    const key = `preview-key-${i}`;
    const from = before[rendezvousPick(key, before)]?.id;
    const to = after[rendezvousPick(key, after)]?.id;
    if (from === to) continue;
    moved++;
    const [fromVersion, toVersion] = [from && versionOf(from), to && versionOf(to)];
    if (fromVersion === undefined || toVersion === undefined || fromVersion !== toVersion) versionChanged++;
    if (from) netByRoute[from] = (netByRoute[from] ?? 0) - 1;
    if (to) netByRoute[to] = (netByRoute[to] ?? 0) + 1;
  }
  return { sampled, moved, versionChanged, netByRoute };
}

/** The registry stores a route's ref with its project; the editor lets people leave it out. */
export function storedRef(project: string, ref: string): string {
  const trimmed = ref.trim();
  return trimmed.includes('/') ? trimmed : `${project}/${trimmed}`;
}
