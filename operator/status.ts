// The status a reconcile reports, computed from what the registry resolved and what the owned
// Deployments say: pure, so every combination is a table row.
import type { V1Deployment } from '@kubernetes/client-node';
import { conditionsOf } from './conditions';
import type { ResolvedRoute } from './desired';
import type { Condition, ModelDeployment, ModelDeploymentStatus, RouteStatus } from './model-deployment';

/** A Deployment that finished rolling out its current template with every replica available. */
export function rolledOut(deployment: V1Deployment | undefined): boolean {
  if (!deployment) return false;
  const want = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  return (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 1)
    && (status.updatedReplicas ?? 0) === want && (status.availableReplicas ?? 0) === want && (status.replicas ?? 0) === want;
}

export function resolvedStatus(md: ModelDeployment, routes: ResolvedRoute[], deployments: (V1Deployment | undefined)[], now = new Date()): ModelDeploymentStatus {
  const generation = md.metadata?.generation;
  const routeStatus: RouteStatus[] = routes.map((route, index) => ({
    name: route.route.name,
    reference: route.route.model,
    version: route.version,
    digest: route.digest,
    bytes: route.bytes,
    weight: route.route.weight,
    replicas: route.replicas,
    readyReplicas: deployments[index]?.status?.readyReplicas ?? 0,
  }));
  const ready = deployments.every(rolledOut);
  const versions = routes.map((route) => `${route.project}/${route.model}@${route.version}`);
  const summary = routes.map((route) => `${route.route.name}: ${route.route.model} → @${route.version}`).join(', ');
  const updates: Omit<Condition, 'lastTransitionTime'>[] = [
    { type: 'ModelResolved', status: 'True', reason: 'Resolved', message: summary, observedGeneration: generation },
    md.spec.cache.policy === 'none'
      ? { type: 'CacheWarm', status: 'True', reason: 'NotRequired', message: 'cache policy none: pods do not wait for a warm node', observedGeneration: generation }
      : ready
        ? { type: 'CacheWarm', status: 'True', reason: 'ServedFromCache', message: 'every pod passed its wait for the version on its node', observedGeneration: generation }
        : { type: 'CacheWarm', status: 'Unknown', reason: 'Waiting', message: 'pods wait for the node agent to hold the version', observedGeneration: generation },
    ready
      ? { type: 'Progressing', status: 'False', reason: 'RolledOut', message: 'every route runs its resolved version', observedGeneration: generation }
      : { type: 'Progressing', status: 'True', reason: 'RollingOut', message: `rolling out ${versions.join(', ')}`, observedGeneration: generation },
    { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '', observedGeneration: generation },
    ready
      ? { type: 'Ready', status: 'True', reason: 'Available', message: `serving ${versions.join(', ')}`, observedGeneration: generation }
      : { type: 'Ready', status: 'False', reason: 'RollingOut', message: `waiting for ${versions.join(', ')} to be available`, observedGeneration: generation },
  ];
  return {
    observedGeneration: generation,
    conditions: conditionsOf(md.status, updates, now),
    routes: routeStatus,
    replicas: routes.reduce((sum, route) => sum + route.replicas, 0),
    readyReplicas: routeStatus.reduce((sum, route) => sum + route.readyReplicas, 0),
    version: versions.join(','),
  };
}

/**
 * A failure: Degraded with its reason. Ready keeps what it was when pods still run (the registry
 * being down does not stop serving), except for a spec that can never work.
 */
export function failedStatus(md: ModelDeployment, reason: string, message: string, terminal: boolean, now = new Date()): ModelDeploymentStatus {
  const generation = md.metadata?.generation;
  const updates: Omit<Condition, 'lastTransitionTime'>[] = [
    { type: 'Degraded', status: 'True', reason, message, observedGeneration: generation },
    terminal
      ? { type: 'ModelResolved', status: 'False', reason, message, observedGeneration: generation }
      : { type: 'ModelResolved', status: 'Unknown', reason, message, observedGeneration: generation },
  ];
  if (!md.status?.conditions?.some((condition) => condition.type === 'Ready')) {
    updates.push({ type: 'Ready', status: 'False', reason, message, observedGeneration: generation });
  }
  return { ...md.status, observedGeneration: generation, conditions: conditionsOf(md.status, updates, now) };
}
