import { ClientRateLimiter } from './rate-limit';

describe('ClientRateLimiter', () => {
  it('allows a burst, then refuses with the seconds until the next token', () => {
    let now = 0;
    const limiter = new ClientRateLimiter({ perSecond: 0.5, burst: 3 }, () => now);
    expect([1, 2, 3].map(() => limiter.take('wharf:alice').allowed)).toEqual([true, true, true]);
    expect(limiter.take('wharf:alice')).toEqual({ allowed: false, retryAfterSeconds: 2 });
    now += 2000;
    expect(limiter.take('wharf:alice').allowed).toBe(true);
  });

  it('keeps one bucket per client', () => {
    const limiter = new ClientRateLimiter({ perSecond: 1, burst: 1 }, () => 0);
    expect(limiter.take('wharf:alice').allowed).toBe(true);
    expect(limiter.take('wharf:alice').allowed).toBe(false);
    expect(limiter.take('wharf:bob').allowed).toBe(true);
  });

  it('forgets idle clients instead of growing without bound', () => {
    let now = 0;
    const limiter = new ClientRateLimiter({ perSecond: 1, burst: 1 }, () => now, 10);
    for (let i = 0; i < 10; i += 1) limiter.take(`anonymous:10.0.0.${i}`);
    now += 5000;
    limiter.take('anonymous:10.0.1.1');
    expect((limiter as unknown as { buckets: Map<string, unknown> }).buckets.size).toBe(1);
  });
});
