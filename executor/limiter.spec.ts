import { Acquired, ConcurrencyLimiter } from './limiter';

const granted = (result: Acquired) => {
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  return result.release;
};

describe('ConcurrencyLimiter', () => {
  it('admits up to the limit, queues up to the depth, then refuses at once', async () => {
    const limiter = new ConcurrencyLimiter(2, 1, 60_000);
    const a = granted(await limiter.acquire());
    granted(await limiter.acquire());
    const waiting = limiter.acquire();
    expect(limiter.waiting).toBe(1);
    expect(await limiter.acquire()).toEqual({ ok: false, reason: 'queue_full' });
    a();
    const third = await waiting;
    expect(third.ok).toBe(true);
    expect(limiter.inFlight).toBe(2);
    expect(limiter.waiting).toBe(0);
  });

  it('hands slots to waiters in arrival order and counts a double release once', async () => {
    const limiter = new ConcurrencyLimiter(1, 5, 60_000);
    const release = granted(await limiter.acquire());
    const order: number[] = [];
    const waiters = [1, 2, 3].map(async (n) => {
      const next = granted(await limiter.acquire());
      order.push(n);
      next();
    });
    release();
    release();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    expect(limiter.inFlight).toBe(0);
  });

  it('gives up on a waiter after the timeout, or when its caller goes away', async () => {
    const limiter = new ConcurrencyLimiter(1, 5, 20);
    granted(await limiter.acquire());
    expect(await limiter.acquire()).toEqual({ ok: false, reason: 'timeout' });
    let callerLeft = () => {};
    const waiting = limiter.acquire((cancel) => (callerLeft = cancel));
    callerLeft();
    expect(await waiting).toEqual({ ok: false, reason: 'cancelled' });
    expect(limiter.waiting).toBe(0);
  });

  it('never limits with concurrency 0', async () => {
    const limiter = new ConcurrencyLimiter(0, 0, 10);
    for (let i = 0; i < 1000; i += 1) granted(await limiter.acquire());
    expect(limiter.inFlight).toBe(1000);
  });
});
