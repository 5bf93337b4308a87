import type { AgentConfig } from './config';

/**
 * The node's labels: from the Node object when running in a cluster (KUBERNETES_SERVICE_HOST
 * set, in-cluster service account credentials), from NODE_LABELS otherwise.
 */
export async function readNodeLabels(config: AgentConfig): Promise<Record<string, string>> {
  if (!config.KUBERNETES_SERVICE_HOST) return config.NODE_LABELS;
  const k8s = await import('@kubernetes/client-node');
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromCluster();
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const node = await api.readNode({ name: config.NODE_NAME });
  return { ...config.NODE_LABELS, ...(node.metadata?.labels ?? {}) };
}

/** Keeps the node's labels current: read once at start, then every LABEL_REFRESH in a cluster. */
export class NodeLabels {
  current: Record<string, string> = {};
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly config: AgentConfig,
    private readonly onError: (error: Error) => void,
  ) {}

  async start(): Promise<void> {
    this.current = await readNodeLabels(this.config);
    if (!this.config.KUBERNETES_SERVICE_HOST) return;
    this.timer = setInterval(() => {
      readNodeLabels(this.config).then((labels) => (this.current = labels), this.onError);
    }, this.config.LABEL_REFRESH);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
