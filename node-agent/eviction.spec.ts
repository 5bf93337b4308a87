import { CachedVersion, planEviction } from './eviction';

const version = (key: string, blobs: [string, number][], isProtected = false): CachedVersion => ({
  key,
  blobs: blobs.map(([sha256, size]) => ({ sha256, size })),
  protected: isProtected,
});

describe('planEviction', () => {
  const a = version('m@1', [['a', 40]]);
  const b = version('m@2', [['b', 30]]);
  const c = version('m@3', [['c', 20]]);

  it.each<[string, { versions: CachedVersion[]; lru: string[]; used: number }, string[], number]>([
    ['evicts nothing under the high watermark', { versions: [a, b, c], lru: ['m@1', 'm@2', 'm@3'], used: 90 }, [], 90],
    ['evicts least recently used first, down to the low watermark', { versions: [a, b, c], lru: ['m@2', 'm@1', 'm@3'], used: 95 }, ['m@2', 'm@1'], 25],
    ['stops as soon as the low watermark is reached', { versions: [a, b, c], lru: ['m@1', 'm@2', 'm@3'], used: 95 }, ['m@1'], 55],
    ['never evicts a protected version', { versions: [version('m@1', [['a', 40]], true), b, c], lru: ['m@1', 'm@2', 'm@3'], used: 95 }, ['m@2', 'm@3'], 45],
    ['does everything it can when protected versions fill the disk', { versions: [version('m@1', [['a', 90]], true), c], lru: ['m@3', 'm@1'], used: 110 }, ['m@3'], 90],
    ['treats versions it has no recency for as least recent', { versions: [a, b, c], lru: ['m@1', 'm@2'], used: 95 }, ['m@3', 'm@1'], 35],
  ])('%s', (_, { versions, lru, used }, evict, usedAfter) => {
    const plan = planEviction({ versions, lru, usedBytes: used, budgetBytes: 100, highWatermark: 0.9, lowWatermark: 0.6 });
    expect(plan.evict).toEqual(evict);
    expect(plan.usedAfter).toBe(usedAfter);
  });

  it('frees a shared blob only with the last version that links it', () => {
    const shared1 = version('m@1', [['shared', 50], ['x', 10]]);
    const shared2 = version('m@2', [['shared', 50], ['y', 10]]);
    const plan = planEviction({ versions: [shared1, shared2], lru: ['m@1', 'm@2'], usedBytes: 70, budgetBytes: 70, highWatermark: 0.9, lowWatermark: 0.5 });
    expect(plan.evict).toEqual(['m@1', 'm@2']);
    expect(plan.freedBytes).toBe(70);
    const first = planEviction({ versions: [shared1, shared2], lru: ['m@1', 'm@2'], usedBytes: 70, budgetBytes: 70, highWatermark: 0.9, lowWatermark: 0.86 });
    expect(first).toEqual({ evict: ['m@1'], freedBytes: 10, usedAfter: 60 });
  });

  it('counts a blob listed twice in one version once', () => {
    const twice = version('m@1', [['d', 30], ['d', 30]]);
    expect(planEviction({ versions: [twice], lru: ['m@1'], usedBytes: 30, budgetBytes: 30, highWatermark: 0.5, lowWatermark: 0.1 }).freedBytes).toBe(30);
  });
});
