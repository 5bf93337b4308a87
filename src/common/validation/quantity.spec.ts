import { formatQuantity, parseQuantity } from './quantity';

describe('parseQuantity', () => {
  it.each([
    ['8', 'millicores', 8000],
    ['500m', 'millicores', 500],
    ['0.5', 'millicores', 500],
    ['1.5', 'millicores', 1500],
    ['2e3', 'millicores', 2_000_000],
    ['64Gi', 'bytes', 64 * 2 ** 30],
    ['1.5Gi', 'bytes', 1.5 * 2 ** 30],
    ['1G', 'bytes', 1e9],
    ['128974848', 'bytes', 128974848],
    ['129e6', 'bytes', 129e6],
    ['123Mi', 'bytes', 123 * 2 ** 20],
    ['4', 'count', 4],
    [4, 'count', 4],
    ['0', 'bytes', 0],
  ] as const)('reads %p as %p %p', (raw, unit, expected) => {
    expect(parseQuantity('field', raw, unit)).toBe(expected);
  });

  it.each([
    ['-1', 'bytes'],
    ['1.5', 'count'],
    ['100u', 'millicores'],
    ['0.1m', 'millicores'],
    ['1.5', 'bytes'],
    ['12 Gi', 'bytes'],
    ['Gi', 'bytes'],
    ['1gi', 'bytes'],
    ['', 'bytes'],
    ['9Ei', 'bytes'],
    [-3, 'count'],
    [1.5, 'count'],
    [true, 'count'],
  ] as const)('refuses %p as %p with a validation problem naming the field', (raw, unit) => {
    expect(() => parseQuantity('quota.cpu', raw, unit)).toThrow(expect.objectContaining({ code: 'validation_failed' }));
    try {
      parseQuantity('quota.cpu', raw, unit);
    } catch (error) {
      expect((error as { extensions: { errors: { field: string }[] } }).extensions.errors[0].field).toBe('quota.cpu');
    }
  });

  it('formats canonical quantities that parse back to the same value', () => {
    for (const [value, unit] of [[8000, 'millicores'], [500, 'millicores'], [64 * 2 ** 30, 'bytes'], [1e9, 'bytes'], [3, 'count']] as const) {
      expect(parseQuantity('f', formatQuantity(value, unit), unit)).toBe(value);
    }
    expect(formatQuantity(8000, 'millicores')).toBe('8');
    expect(formatQuantity(250, 'millicores')).toBe('250m');
    expect(formatQuantity(64 * 2 ** 30, 'bytes')).toBe('64Gi');
  });
});
