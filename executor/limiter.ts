/**
 * A concurrency limit with a bounded wait queue, as Knative's containerConcurrency: at most
 * `concurrency` holders at once (0: unlimited), then at most `queueDepth` waiters in arrival
 * order, each for at most `timeoutMs`. Past that the caller is refused at once, so an overloaded
 * model sheds load with 503 instead of piling up sockets and memory.
 */
export type Acquired = { ok: true; release: () => void } | { ok: false; reason: 'queue_full' | 'timeout' | 'cancelled' };

interface Waiter {
  grant: (result: Acquired) => void;
  timer: NodeJS.Timeout;
}

export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queueDepth: number,
    private readonly timeoutMs: number,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * `onCancel` (called only when the caller has to wait) is handed the function that gives up the
   * wait without taking a slot, to call when the caller goes away. A plain callback rather than an
   * AbortSignal: aborting one builds a DOMException, and under load most requests wait, so that
   * was ~10% of the executor's CPU per request (cpu profile, 64 connections).
   */
  acquire(onCancel?: (cancel: () => void) => void): Promise<Acquired> | Acquired {
    if (this.concurrency === 0 || this.active < this.concurrency) {
      this.active += 1;
      return { ok: true, release: this.releaser() };
    }
    if (this.waiters.length >= this.queueDepth) return { ok: false, reason: 'queue_full' };
    return new Promise<Acquired>((resolve) => {
      const waiter: Waiter = {
        grant: resolve,
        timer: setTimeout(() => this.drop(waiter, 'timeout'), this.timeoutMs),
      };
      this.waiters.push(waiter);
      // A cancel after the grant finds the waiter gone: drop() ignores it.
      onCancel?.(() => this.drop(waiter, 'cancelled'));
    });
  }

  private drop(waiter: Waiter, reason: 'timeout' | 'cancelled'): void {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return;
    this.waiters.splice(index, 1);
    clearTimeout(waiter.timer);
    waiter.grant({ ok: false, reason });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) {
        // The slot passes straight to the next waiter: `active` stays the same.
        clearTimeout(next.timer);
        next.grant({ ok: true, release: this.releaser() });
      } else {
        this.active -= 1;
      }
    };
  }
}
