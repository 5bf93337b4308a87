// Leader election on a coordination.k8s.io/v1 Lease, in client-go's shape: the holder renews the
// Lease every retry period; another candidate takes it over only after it saw the same record
// unchanged for a whole lease duration (measured on its own clock, so clocks need not agree);
// a leader that cannot renew within the renew deadline stops leading (the process should exit,
// as controller-runtime's managers do), so two replicas never reconcile at once.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { isConflict, isNotFound, type KubeClient } from './kube-client';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  onError?(error: unknown): void;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

const microTime = (date = new Date()) => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  readonly identity: string;
  private leading = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private lastRenewal = 0;
  /** The record we last saw and when we first saw it so: expiry is judged on our own clock. */
  private observed?: { key: string; at: number };

  constructor(
    private readonly kube: KubeClient,
    private readonly options: LeaderElectionOptions,
  ) {
    this.identity = options.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stops trying; a leader gives the Lease up so a successor need not wait for it to expire. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    const lease = await this.read().catch(() => undefined);
    if (lease?.spec.holderIdentity === this.identity) {
      lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: microTime() };
      await this.kube.request('PUT', this.path, lease).catch(() => undefined);
    }
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.options.namespace}/leases/${this.options.name}`;
  }

  private read(): Promise<Lease | undefined> {
    return this.kube.get<Lease>(this.path).catch((error) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      if (await this.tryAcquireOrRenew()) {
        this.lastRenewal = Date.now();
        if (!this.leading) {
          this.leading = true;
          this.options.onStartedLeading();
        }
      }
    } catch (error) {
      this.options.onError?.(error);
    }
    if (this.leading && Date.now() - this.lastRenewal > (this.options.renewDeadlineMs ?? 10_000)) {
      this.leading = false;
      this.stopped = true;
      this.options.onStoppedLeading();
      return;
    }
    this.timer = setTimeout(() => void this.tick(), this.options.retryPeriodMs ?? 2_000);
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const durationMs = this.options.leaseDurationMs ?? 15_000;
    const now = new Date();
    const lease = await this.read();
    const mine = { holderIdentity: this.identity, leaseDurationSeconds: Math.ceil(durationMs / 1000), renewTime: microTime(now) };
    if (!lease) {
      const { namespace, name } = this.options;
      return this.write('POST', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace },
        spec: { ...mine, acquireTime: microTime(now), leaseTransitions: 0 },
      });
    }
    const holder = lease.spec.holderIdentity;
    const key = `${holder}|${lease.spec.renewTime}`;
    if (this.observed?.key !== key) this.observed = { key, at: Date.now() };
    if (holder && holder !== this.identity) {
      const expired = Date.now() - this.observed.at > (lease.spec.leaseDurationSeconds ?? 15) * 1000;
      if (!expired) return false;
    }
    const taking = holder !== this.identity;
    lease.spec = {
      ...lease.spec,
      ...mine,
      acquireTime: taking ? microTime(now) : lease.spec.acquireTime,
      leaseTransitions: (lease.spec.leaseTransitions ?? 0) + (taking ? 1 : 0),
    };
    // The resourceVersion in the body makes this a compare-and-swap: a rival's write wins, ours fails.
    return this.write('PUT', this.path, lease);
  }

  private async write(method: string, path: string, body: unknown): Promise<boolean> {
    try {
      await this.kube.request(method, path, body);
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }
}
