/**
 * Wakes whoever waits for the cache to change (a version became ready, a request was refused).
 * Waiters wake at least once a second even without a signal, so a missed one costs a second,
 * never a hung request.
 */
export class ChangeSignal {
  private readonly listeners = new Set<() => void>();

  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Resolves on the next signal, or after min(timeoutMs, 1 s). */
  next(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(timeoutMs, 1000));
      this.listeners.add(done);
    });
  }
}
