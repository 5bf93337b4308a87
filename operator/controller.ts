// Wires the controller together: informers on ModelDeployments and on the Deployments and
// Services we own (mapped back to their ModelDeployment), registry events, and the work queue
// that runs the Reconciler.
import { randomBytes } from 'node:crypto';
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Informer, objectKey } from '../kube-runtime/informer';
import type { KubeClient } from '../kube-runtime/kube-client';
import { WorkQueue } from '../kube-runtime/work-queue';
import type { OperatorConfig } from './config';
import { LABELS, MANAGER } from './desired';
import type { RegistryEvent } from './http-server';
import { EventRecorder } from './kube-events';
import type { OperatorMetrics } from './metrics';
import { collectionPath, routesOf, type ModelDeployment } from './model-deployment';
import { parseReference } from './reference';
import { ownerKey, Reconciler } from './reconciler';
import { RegistryClient } from './registry-client';

export interface Controller {
  queue: WorkQueue;
  eventsSecret: string;
  synced(): boolean;
  onRegistryEvent(event: RegistryEvent): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createController(config: OperatorConfig, kube: KubeClient, metrics: OperatorMetrics, logger: Logger): Controller {
  const ns = config.WATCH_NAMESPACE;
  const onError = (error: unknown, what: string) => logger.warn({ err: (error as Error).message }, what);
  const owned = { labelSelector: `${LABELS.managedBy}=${MANAGER}` };
  const modelDeployments = new Informer<ModelDeployment>({
    list: kube.list(collectionPath(ns)), watch: kube.watch(collectionPath(ns)), resyncMs: config.RESYNC_MS, onError,
  });
  const appsPath = ns ? `/apis/apps/v1/namespaces/${ns}/deployments` : '/apis/apps/v1/deployments';
  const servicesPath = ns ? `/api/v1/namespaces/${ns}/services` : '/api/v1/services';
  const deployments = new Informer<V1Deployment>({ list: kube.list(appsPath, owned), watch: kube.watch(appsPath, owned), onError });
  const services = new Informer<V1Service>({ list: kube.list(servicesPath, owned), watch: kube.watch(servicesPath, owned), onError });

  const queue = new WorkQueue({
    concurrency: config.CONCURRENT_RECONCILES,
    baseMs: config.RETRY_BASE_MS,
    maxMs: config.RETRY_MAX_MS,
    ratePerSecond: config.RETRY_RATE_PER_SECOND,
    burst: config.RETRY_BURST,
    onResult: ({ key, outcome, durationMs, retries }) => {
      metrics.observe(outcome, durationMs);
      metrics.depth.set(queue.depth);
      logger.debug({ modelDeployment: key, outcome, durationMs: Math.round(durationMs), retries }, 'reconciled');
    },
  });
  const enqueue = (object: ModelDeployment) => queue.add(objectKey(object));
  modelDeployments.on({
    add: enqueue,
    // Status writes change resourceVersion but not generation: only spec, labels or a resync matter.
    update: (object, previous) => {
      if (!previous || previous === object || previous.metadata?.generation !== object.metadata?.generation) enqueue(object);
    },
    delete: enqueue,
  });
  const enqueueOwner = (object: V1Deployment | V1Service) => {
    const key = ownerKey(object);
    if (key) queue.add(key);
  };
  for (const informer of [deployments, services] as Informer<V1Deployment | V1Service>[]) {
    informer.on({ add: enqueueOwner, update: enqueueOwner, delete: enqueueOwner });
  }

  const registry = new RegistryClient(config.REGISTRY_URL, config.WHARF_TOKEN);
  // A fresh secret per process: subscribe() replaces our subscription, so the registry signs with it.
  const eventsSecret = randomBytes(24).toString('hex');
  const subscribed = new Map<string, Promise<void>>();
  const watchProject = (project: string): Promise<void> => {
    if (!config.EVENTS_URL) return Promise.resolve();
    let pending = subscribed.get(project);
    if (!pending) {
      pending = registry.subscribe(project, config.EVENTS_URL, eventsSecret).catch((error) => {
        subscribed.delete(project); // try again on the next reconcile
        throw error;
      });
      subscribed.set(project, pending);
    }
    return pending;
  };
  const reconciler = new Reconciler({
    kube, registry, modelDeployments, deployments, watchProject, logger,
    events: new EventRecorder(kube, (error) => onError(error, 'could not record an Event')),
    resolveIntervalMs: config.RESOLVE_INTERVAL_MS,
    settings: {
      cacheDir: config.NODE_CACHE_DIR, agentPort: config.NODE_AGENT_PORT, initImage: config.INIT_IMAGE,
      executorImage: config.EXECUTOR_IMAGE, executorPort: config.EXECUTOR_PORT,
    },
  });

  let synced = false;
  return {
    queue,
    eventsSecret,
    synced: () => synced,
    /** A tag moved (or a version got ready, an endpoint changed) in a project: re-resolve its users. */
    onRegistryEvent(event) {
      registry.invalidate(event.project, event.data?.model);
      for (const md of modelDeployments.list()) {
        if (md.metadata?.namespace !== event.project) continue;
        const models = routesOf(md.spec).map((route) => {
          try {
            return parseReference(route.model, md.metadata?.namespace).model;
          } catch {
            return undefined;
          }
        });
        if (!event.data?.model || models.includes(event.data.model)) enqueue(md);
      }
    },
    async start() {
      await Promise.all([deployments.start(), services.start()]);
      await modelDeployments.start();
      synced = true;
      queue.start((key) => reconciler.reconcile(key));
    },
    async stop() {
      for (const informer of [modelDeployments, deployments, services] as Informer<never>[]) informer.stop();
      await queue.shutdown();
    },
  };
}
