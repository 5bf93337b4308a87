import { isTerminal } from './errors';
import { RetryLimiter, type RetryLimiterOptions } from './rate-limit';

/** What a reconcile returns: nothing, or when to look again even if nothing changes. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type Reconcile = (key: string) => Promise<ReconcileResult | void>;

export type Outcome = 'success' | 'requeue' | 'error' | 'terminal';

export interface WorkQueueOptions extends RetryLimiterOptions {
  /** Reconciles running at once (controller-runtime's MaxConcurrentReconciles). */
  concurrency?: number;
  /** Told after every reconcile: metrics and logs keyed by object. */
  onResult?: (event: { key: string; outcome: Outcome; durationMs: number; error?: unknown; retries: number }) => void;
}

/**
 * A keyed work queue in client-go's shape, with the reconcile loop built in. Events only add
 * keys; the queue guarantees:
 *  - a key waiting in the queue is there once, however often it is added (dedupe);
 *  - a key is never reconciled twice at once: added while running, it runs again afterwards;
 *  - at most `concurrency` reconciles run together;
 *  - a thrown error retries the key after max(its exponential backoff, the shared token bucket);
 *    a TerminalError does not retry; success forgets the key's failures;
 *  - `requeueAfterMs` brings the key back after that long (the earliest of several delays wins).
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  /** Keys added while they ran: they go back into the queue when the run ends. */
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly limiter: RetryLimiter;
  private readonly concurrency: number;
  private reconcile?: Reconcile;
  private stopped = false;

  constructor(private readonly options: WorkQueueOptions = {}) {
    this.limiter = new RetryLimiter(options);
    this.concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError(`concurrency must be a positive integer, not ${options.concurrency}`);
  }

  /** Starts reconciling with RECONCILE; keys added before are processed now. */
  start(reconcile: Reconcile): void {
    this.reconcile = reconcile;
    this.pump();
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Adds KEY after DELAY ms; a key already due earlier keeps its earlier time. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref?.();
    this.delayed.set(key, { at, timer });
  }

  /** Adds KEY after its backoff (and the shared bucket) allows another try. */
  addRateLimited(key: string): void {
    this.addAfter(key, this.limiter.when(key));
  }

  forget(key: string): void {
    this.limiter.forget(key);
  }

  retries(key: string): number {
    return this.limiter.retries(key);
  }

  /** Keys waiting to run now (not the delayed ones, not the running ones). */
  get depth(): number {
    return this.queue.length;
  }

  get active(): number {
    return this.running.size;
  }

  /** Resolves once nothing is queued or running (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking keys, drops delayed ones and waits for the running reconciles to end. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.queue.length = 0;
    this.queued.clear();
    await this.idle();
  }

  private pump(): void {
    const reconcile = this.reconcile;
    if (!reconcile || this.stopped) return;
    while (this.running.size < this.concurrency && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.running.add(key);
      void this.run(key, reconcile);
    }
  }

  private async run(key: string, reconcile: Reconcile): Promise<void> {
    const started = performance.now();
    let outcome: Outcome;
    let failure: unknown;
    try {
      const result = await reconcile(key);
      this.limiter.forget(key);
      const after = result?.requeueAfterMs;
      outcome = after !== undefined && after >= 0 ? 'requeue' : 'success';
      if (outcome === 'requeue') this.addAfter(key, after!);
    } catch (error) {
      failure = error;
      if (isTerminal(error)) {
        outcome = 'terminal';
        this.limiter.forget(key);
      } else {
        outcome = 'error';
        this.addRateLimited(key);
      }
    }
    const retries = this.limiter.retries(key);
    this.running.delete(key);
    this.options.onResult?.({ key, outcome, durationMs: performance.now() - started, error: failure, retries });
    if (this.dirty.delete(key)) this.add(key);
    this.pump();
    if (this.queue.length === 0 && this.running.size === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
  }
}
