import { ExponentialBackoff, RetryLimiter, TokenBucket } from './rate-limit';

describe('ExponentialBackoff', () => {
  it.each([
    [1, 5],
    [2, 10],
    [3, 20],
    [10, 2_560],
    [18, 655_360],
    [19, 1_000_000],
    [200, 1_000_000],
  ])('after %i failures waits %i ms (5 ms doubling, capped at 1000 s)', (failures, expected) => {
    const backoff = new ExponentialBackoff();
    let last = 0;
    for (let i = 0; i < failures; i++) last = backoff.next('k');
    expect(last).toBe(expected);
  });

  it('keeps each key on its own count and starts over once forgotten', () => {
    const backoff = new ExponentialBackoff();
    backoff.next('a');
    backoff.next('a');
    expect(backoff.next('b')).toBe(5);
    expect(backoff.next('a')).toBe(20);
    backoff.forget('a');
    expect(backoff.retries('a')).toBe(0);
    expect(backoff.next('a')).toBe(5);
  });

  it('refuses a base above its cap', () => {
    expect(() => new ExponentialBackoff(10, 5)).toThrow(RangeError);
  });
});

describe('TokenBucket', () => {
  it.each([
    // rate, burst, reservations at one instant, the wait of the last one
    [10, 100, 100, 0],
    [10, 100, 101, 100],
    [10, 100, 110, 1_000],
    [1, 1, 3, 2_000],
  ])('at %i/s with burst %i, reservation #%i waits %i ms', (rate, burst, count, expected) => {
    const bucket = new TokenBucket(rate, burst, () => 0);
    let wait = -1;
    for (let i = 0; i < count; i++) wait = bucket.reserve();
    expect(wait).toBe(expected);
  });

  it('refills with time, never above the burst', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    bucket.reserve();
    bucket.reserve();
    expect(bucket.reserve()).toBe(100);
    now = 10_000; // long idle: back to the burst of 2, not 100
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 100]);
  });
});

describe('RetryLimiter', () => {
  it('waits for the later of the key backoff and the shared bucket', () => {
    const limiter = new RetryLimiter({ ratePerSecond: 1, burst: 1, now: () => 0 });
    expect(limiter.when('a')).toBe(5); // own backoff; bucket token free
    expect(limiter.when('b')).toBe(1_000); // bucket empty: its wait beats b's 5 ms
    expect(limiter.retries('a')).toBe(1);
  });
});
