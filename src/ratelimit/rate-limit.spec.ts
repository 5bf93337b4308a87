import { parsePolicy } from './rate-limiter';
import { MemoryRateLimitStore } from './rate-limit.store';

describe('parsePolicy', () => {
  it('reads "<requests>/<seconds>s" and 0 as unlimited', () => {
    expect(parsePolicy('300/60s')).toEqual({ limit: 300, windowMs: 60_000 });
    expect(parsePolicy('0')).toBeNull();
  });
});

describe('MemoryRateLimitStore', () => {
  it('counts within a window that starts at the first hit and resets when it ends', async () => {
    const store = new MemoryRateLimitStore();
    expect(await store.hit('k', 1000, 10_000)).toEqual({ count: 1, resetMs: 1000 });
    expect(await store.hit('k', 1000, 10_400)).toEqual({ count: 2, resetMs: 600 });
    expect(await store.hit('other', 1000, 10_400)).toEqual({ count: 1, resetMs: 1000 });
    expect(await store.hit('k', 1000, 11_000)).toEqual({ count: 1, resetMs: 1000 });
  });
});
