import { apportion } from './apportion';

describe('apportion', () => {
  it.each<[number, number[], number[]]>([
    [10, [100], [10]],
    [10, [90, 10], [9, 1]],
    [2, [90, 10], [1, 1]], // the canary still runs
    [1, [90, 10], [1, 0]], // not enough to go round: the heavier route
    [3, [50, 50], [2, 1]], // tie to the earlier route
    [10, [50, 50], [5, 5]],
    [7, [70, 20, 10], [5, 1, 1]],
    [20, [70, 20, 10], [14, 4, 2]],
    [5, [100, 0], [5, 0]], // a zero weight runs nothing
    [0, [90, 10], [0, 0]],
    [100, [33, 33, 34], [33, 33, 34]],
  ])('%i replicas over weights %j → %j', (replicas, weights, expected) => {
    const result = apportion(replicas, weights);
    expect(result).toEqual(expected);
    expect(result.reduce((a, b) => a + b, 0)).toBe(replicas > 0 && weights.some((w) => w > 0) ? replicas : 0);
  });
});
