import { RateLimiter, Semaphore } from './limits';

describe('Semaphore', () => {
  it('lets at most its size in at once and serves waiters in order', async () => {
    const semaphore = new Semaphore(2);
    const order: number[] = [];
    let inside = 0;
    let most = 0;
    await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) => {
        const release = await semaphore.acquire();
        order.push(i);
        inside++;
        most = Math.max(most, inside);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inside--;
        release();
        release();
      }),
    );
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('RateLimiter', () => {
  it('spreads bytes over time at the configured rate', async () => {
    const limiter = new RateLimiter(100_000);
    const started = Date.now();
    for (let i = 0; i < 4; i++) await limiter.take(50_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('does not wait when unlimited', async () => {
    const started = Date.now();
    await new RateLimiter(0).take(1e12);
    expect(Date.now() - started).toBeLessThan(50);
  });
});
