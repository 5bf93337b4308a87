import { hashUnit, mirrored, rendezvousPick, weightedRandom } from './routing';

const KEYS = Array.from({ length: 100_000 }, (_, index) => `client-${index}`);
const A = 'vision/resnet@1';
const B = 'vision/resnet:canary';

describe('rendezvousPick', () => {
  const split90 = [
    { id: A, weight: 90 },
    { id: B, weight: 10 },
  ];
  const split80 = [
    { id: A, weight: 80 },
    { id: B, weight: 20 },
  ];
  const before = KEYS.map((key) => rendezvousPick(key, split90));
  const after = KEYS.map((key) => rendezvousPick(key, split80));

  it('gives a 90/10 split 10% ± 1% of 100,000 keys', () => {
    const share = before.filter((index) => index === 1).length / KEYS.length;
    expect(share).toBeGreaterThanOrEqual(0.09);
    expect(share).toBeLessThanOrEqual(0.11);
  });

  it('moves at most 11% of keys from 90/10 to 80/20, all towards the growing route', () => {
    const moved = KEYS.filter((_, index) => before[index] !== after[index]).length;
    expect(moved / KEYS.length).toBeLessThanOrEqual(0.11);
    expect(moved / KEYS.length).toBeGreaterThanOrEqual(0.09);
    expect(KEYS.every((_, index) => before[index] === after[index] || (before[index] === 0 && after[index] === 1))).toBe(true);
    const share = after.filter((index) => index === 1).length / KEYS.length;
    expect(Math.abs(share - 0.2)).toBeLessThanOrEqual(0.01);
  });

  it('keeps every key on its route while the weights are unchanged, whatever the order of routes', () => {
    const again = KEYS.slice(0, 10_000).map((key) => rendezvousPick(key, [...split90].reverse()));
    expect(again.every((index, position) => index === 1 - before[position])).toBe(true);
  });

  it('splits three ways in proportion and never picks a weight-0 route', () => {
    const routes = [
      { id: 'a', weight: 50 },
      { id: 'b', weight: 30 },
      { id: 'c', weight: 20 },
      { id: 'd', weight: 0 },
    ];
    const counts = [0, 0, 0, 0];
    for (const key of KEYS) counts[rendezvousPick(key, routes)]++;
    expect(counts[3]).toBe(0);
    [0.5, 0.3, 0.2].forEach((expected, index) => expect(Math.abs(counts[index] / KEYS.length - expected)).toBeLessThan(0.01));
  });

  it('refuses routes without any positive weight', () => {
    expect(() => rendezvousPick('k', [{ id: 'a', weight: 0 }])).toThrow();
  });
});

describe('weightedRandom', () => {
  it('follows the weights', () => {
    const routes = [
      { id: 'a', weight: 70 },
      { id: 'b', weight: 30 },
      { id: 'c', weight: 0 },
    ];
    expect(weightedRandom(routes, () => 0)).toBe(0);
    expect(weightedRandom(routes, () => 0.69)).toBe(0);
    expect(weightedRandom(routes, () => 0.71)).toBe(1);
    expect(weightedRandom(routes, () => 0.9999)).toBe(1);
  });
});

describe('mirrored', () => {
  it('mirrors about the given percent of keys, stickily, and only adds keys as it grows', () => {
    const at10 = KEYS.map((key) => mirrored(10, key));
    const at20 = KEYS.map((key) => mirrored(20, key));
    expect(Math.abs(at10.filter(Boolean).length / KEYS.length - 0.1)).toBeLessThan(0.01);
    expect(at10.every((hit, index) => !hit || at20[index])).toBe(true);
    expect(mirrored(0, 'k')).toBe(false);
    expect(mirrored(100, 'k')).toBe(true);
  });

  it('hashes to the open unit interval', () => {
    for (const key of KEYS.slice(0, 1000)) {
      const unit = hashUnit(key);
      expect(unit).toBeGreaterThan(0);
      expect(unit).toBeLessThan(1);
    }
  });
});
