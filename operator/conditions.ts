// Status conditions in the Kubernetes convention: one entry per type, lastTransitionTime kept
// while the status does not change, observedGeneration on each.
import type { Condition, ModelDeploymentStatus } from './model-deployment';

export function setCondition(existing: Condition[] | undefined, next: Omit<Condition, 'lastTransitionTime'>, now = new Date()): Condition[] {
  const list = [...(existing ?? [])];
  const index = list.findIndex((condition) => condition.type === next.type);
  const previous = index >= 0 ? list[index] : undefined;
  const lastTransitionTime = previous && previous.status === next.status ? previous.lastTransitionTime : now.toISOString();
  const condition = { ...next, lastTransitionTime };
  if (index >= 0) list[index] = condition;
  else list.push(condition);
  return list;
}

export function conditionsOf(status: ModelDeploymentStatus | undefined, updates: Omit<Condition, 'lastTransitionTime'>[], now = new Date()): Condition[] {
  return updates.reduce<Condition[]>((list, update) => setCondition(list, update, now), status?.conditions ?? []);
}

/** Status equal apart from timestamps: no write needed. */
export function sameStatus(a: ModelDeploymentStatus | undefined, b: ModelDeploymentStatus): boolean {
  const strip = (status: ModelDeploymentStatus | undefined) =>
    JSON.stringify({ ...status, conditions: status?.conditions?.map(({ lastTransitionTime: _time, ...rest }) => rest) });
  return strip(a) === strip(b);
}
