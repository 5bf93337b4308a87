/**
 * Splits REPLICAS over routes by WEIGHTS (summing to 100). Every route with a weight above zero
 * gets at least one replica when there are enough to go round (a canary at 10 % of 3 replicas
 * still runs); the rest go by largest remainder (Hamilton), ties to the earlier route, so the
 * result always sums to REPLICAS and is stable for the same input.
 */
export function apportion(replicas: number, weights: number[]): number[] {
  const result = weights.map(() => 0);
  const live = weights.map((weight, index) => ({ weight, index })).filter((route) => route.weight > 0);
  const total = live.reduce((sum, route) => sum + route.weight, 0);
  if (replicas <= 0 || total === 0) return result;
  let left = replicas;
  if (replicas >= live.length) {
    for (const route of live) result[route.index] = 1;
    left -= live.length;
  }
  const shares = live.map((route) => {
    const exact = (route.weight / total) * replicas - result[route.index];
    const whole = Math.max(0, Math.floor(exact));
    return { ...route, whole, remainder: exact - whole };
  });
  for (const share of shares) {
    const take = Math.min(share.whole, left);
    result[share.index] += take;
    left -= take;
  }
  const byRemainder = [...shares].sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (let i = 0; left > 0; i = (i + 1) % byRemainder.length, left--) result[byRemainder[i].index] += 1;
  return result;
}
