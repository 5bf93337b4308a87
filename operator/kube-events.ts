// Kubernetes Events about a ModelDeployment (what `kubectl describe` shows). Best effort: an Event
// that cannot be written is logged, never a reason to fail a reconcile.
import type { KubeClient } from '../kube-runtime/kube-client';
import { API_VERSION, KIND, type ModelDeployment } from './model-deployment';

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  constructor(
    private readonly kube: KubeClient,
    private readonly onError: (error: unknown) => void,
  ) {}

  async record(md: ModelDeployment, type: EventType, reason: string, message: string): Promise<void> {
    const { name, namespace, uid } = md.metadata!;
    const now = new Date().toISOString();
    await this.kube.request('POST', `/api/v1/namespaces/${namespace}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${name}.`, namespace },
      involvedObject: { apiVersion: API_VERSION, kind: KIND, name, namespace, uid },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: 'wharf-operator' },
      reportingComponent: 'wharf.dev/operator',
      reportingInstance: process.env.HOSTNAME ?? 'wharf-operator',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    }).catch(this.onError);
  }
}
