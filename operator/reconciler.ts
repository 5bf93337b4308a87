// reconcile(namespace/name): read the ModelDeployment, resolve its routes through the registry,
// apply one Deployment per route and a Service (server-side apply, one field manager), remove
// Deployments of routes that are gone, write status and Events. Level-triggered: it computes the
// whole desired state every time, so a missed event, a crash half-way or a hand edit converge on
// the next run.
import type { V1Deployment } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isTerminal, TerminalError } from '../kube-runtime/errors';
import type { Informer } from '../kube-runtime/informer';
import { splitKey } from '../kube-runtime/informer';
import { isNotFound, type KubeClient } from '../kube-runtime/kube-client';
import type { ReconcileResult } from '../kube-runtime/work-queue';
import { withDefaults } from './admission/defaults';
import { validateModelDeployment } from './admission/validate';
import { apportion } from './apportion';
import { sameStatus } from './conditions';
import { buildDeployment, buildService, deploymentName, LABELS, prune, type PodSettings, type ResolvedRoute } from './desired';
import type { EventRecorder } from './kube-events';
import { FIELD_MANAGER, objectPath, routesOf, type ModelDeployment, type ModelDeploymentStatus } from './model-deployment';
import { parseReference } from './reference';
import type { RegistryClient } from './registry-client';
import { failedStatus, resolvedStatus } from './status';

export interface ReconcilerDeps {
  kube: KubeClient;
  registry: RegistryClient;
  events: EventRecorder;
  modelDeployments: Informer<ModelDeployment>;
  deployments: Informer<V1Deployment>;
  settings: PodSettings;
  resolveIntervalMs: number;
  /** Called once per project that has ModelDeployments: the registry's events for it reach us. */
  watchProject(project: string): Promise<void>;
  logger: Logger;
}

const deploymentPath = (namespace: string, name: string) => `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`;

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const cached = this.deps.modelDeployments.get(key);
    if (!cached || cached.metadata?.deletionTimestamp) return {}; // owned objects go with it (owner references)
    const md: ModelDeployment = { ...cached, spec: withDefaults(cached.spec, cached.metadata?.namespace) };
    const log = this.deps.logger.child({ modelDeployment: key });
    try {
      return await this.converge(md, log);
    } catch (error) {
      const terminal = isTerminal(error);
      const reason = (error as { reason?: string }).reason ?? 'ReconcileFailed';
      const message = (error as Error).message;
      await this.writeStatus(md, failedStatus(md, reason, message, terminal));
      const previous = md.status?.conditions?.find((condition) => condition.type === 'Degraded');
      if (previous?.status !== 'True' || previous.reason !== reason) await this.deps.events.record(md, 'Warning', reason, message);
      log.warn({ reason, terminal, err: message }, 'reconcile failed');
      throw error;
    }
  }

  private async converge(md: ModelDeployment, log: Logger): Promise<ReconcileResult> {
    const { namespace, name } = md.metadata as { namespace: string; name: string };
    const problems = validateModelDeployment(md);
    if (problems.length > 0) throw new TerminalError(`the spec is invalid: ${problems.join('; ')}`, 'InvalidSpec');
    await this.deps.watchProject(namespace).catch((error) => log.warn({ err: (error as Error).message }, 'could not subscribe to registry events; resolving on a timer only'));

    const routes = routesOf(md.spec);
    const total = md.spec.replicas ?? md.spec.autoscaling?.minReplicas ?? 1;
    const counts = apportion(total, routes.map((route) => route.weight));
    const resolved: ResolvedRoute[] = [];
    for (const [index, route] of routes.entries()) {
      const version = await this.deps.registry.resolve(parseReference(route.model, namespace));
      resolved.push({ route, project: version.project, model: version.model, version: version.number, digest: version.digest, bytes: version.bytes, replicas: counts[index] });
    }

    const applied: V1Deployment[] = [];
    for (const route of resolved) {
      const desired = prune(buildDeployment(md, route, this.deps.settings));
      applied.push(await this.deps.kube.apply(deploymentPath(namespace, desired.metadata!.name!), desired, FIELD_MANAGER));
    }
    await this.deps.kube.apply(`/api/v1/namespaces/${namespace}/services/${name}`, prune(buildService(md)), FIELD_MANAGER);
    await this.removeStaleRoutes(md, new Set(resolved.map((route) => deploymentName(md, route.route))), log);

    await this.recordRollouts(md, resolved);
    const status = resolvedStatus(md, resolved, applied);
    await this.writeStatus(md, status);
    // Events bring tag moves within seconds; the timer only covers events that never arrive.
    const followsTags = routes.some((route) => parseReference(route.model, namespace).selector.kind === 'tag');
    return followsTags ? { requeueAfterMs: this.deps.resolveIntervalMs } : {};
  }

  /** A route removed from spec.traffic: its Deployment goes (only ours, by owner uid). */
  private async removeStaleRoutes(md: ModelDeployment, keep: Set<string>, log: Logger): Promise<void> {
    const { namespace, name, uid } = md.metadata!;
    for (const deployment of this.deps.deployments.list()) {
      const meta = deployment.metadata!;
      if (meta.namespace !== namespace || meta.labels?.[LABELS.deployment] !== name || keep.has(meta.name!)) continue;
      if (!meta.ownerReferences?.some((owner) => owner.uid === uid)) continue;
      await this.deps.kube.request('DELETE', deploymentPath(namespace!, meta.name!)).catch((error) => {
        if (!isNotFound(error)) throw error;
      });
      log.info({ deployment: meta.name }, 'removed the Deployment of a route no longer in spec.traffic');
    }
  }

  private async recordRollouts(md: ModelDeployment, resolved: ResolvedRoute[]): Promise<void> {
    for (const route of resolved) {
      const before = md.status?.routes?.find((status) => status.name === route.route.name);
      if (before?.version === route.version) continue;
      const message = before
        ? `route ${route.route.name}: ${route.route.model} moved from @${before.version} to @${route.version} (${route.digest}); rolling out`
        : `route ${route.route.name}: ${route.route.model} resolved to @${route.version} (${route.digest})`;
      await this.deps.events.record(md, 'Normal', before ? 'VersionChanged' : 'Resolved', message);
    }
  }

  /** A merge patch of the status subresource: no resourceVersion, so no conflict to retry. */
  private async writeStatus(md: ModelDeployment, status: ModelDeploymentStatus): Promise<void> {
    if (sameStatus(md.status, status)) return;
    const { namespace, name } = md.metadata as { namespace: string; name: string };
    await this.deps.kube.request('PATCH', `${objectPath(namespace, name)}/status`, { status }, { contentType: 'application/merge-patch+json' }).catch((error) => {
      if (!isNotFound(error)) throw error; // deleted meanwhile: nothing to report on
    });
  }
}

/** The ModelDeployment a Deployment or Service of ours belongs to (its label), as a queue key. */
export function ownerKey(object: { metadata?: { namespace?: string; labels?: Record<string, string> } }): string | undefined {
  const owner = object.metadata?.labels?.[LABELS.deployment];
  return owner && object.metadata?.namespace ? `${object.metadata.namespace}/${owner}` : undefined;
}

export { splitKey };
