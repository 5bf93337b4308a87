import { formatQuantity, parseQuantity, QuantityError, readQuantity } from './quantity';

const GI = 2 ** 30;

describe('Kubernetes quantities', () => {
  // The examples of the Kubernetes documentation ("Resource units") and of resource.Quantity.
  it.each([
    ['500m', 'millicores', 500],
    ['0.5', 'millicores', 500],
    ['1', 'millicores', 1000],
    ['100m', 'millicores', 100],
    ['1Gi', 'bytes', GI],
    ['1G', 'bytes', 1e9],
    ['1e3', 'bytes', 1000],
    ['1E3', 'bytes', 1000],
    ['1.5Gi', 'bytes', 1.5 * GI],
    ['128974848', 'bytes', 128974848],
    ['129e6', 'bytes', 129e6],
    ['129M', 'bytes', 129e6],
    ['123Mi', 'bytes', 123 * 2 ** 20],
    ['1k', 'bytes', 1000],
    ['1Ki', 'bytes', 1024],
    ['2Ti', 'bytes', 2 * 2 ** 40],
    ['+4', 'count', 4],
    ['1.', 'count', 1],
    ['.5', 'millicores', 500],
    ['0', 'bytes', 0],
    ['1000000000n', 'count', 1],
    ['5000000u', 'count', 5],
    ['1e-3', 'millicores', 1],
  ] as const)('reads %p as %p %p', (text, unit, expected) => {
    expect(parseQuantity(text, unit)).toBe(expected);
  });

  it('keeps fractions exact until they meet a base unit', () => {
    expect(readQuantity('500m')).toEqual({ numerator: 500n, denominator: 1000n });
    expect(readQuantity('1.5Gi')).toEqual({ numerator: 15n * 2n ** 30n, denominator: 10n });
  });

  it.each([
    ['500m', 'bytes', /"500m" is finer than 1 byte: in Kubernetes quantities m means milli \(500m = 0\.5\); write 500M for 10\^6 bytes or 500Mi for 2\^20/],
    ['1.5', 'bytes', /"1.5" is finer than 1 byte: a byte size must be a whole number of bytes/],
    ['0.1m', 'millicores', /"0.1m" is finer than 1m/],
    ['1.5', 'count', /"1.5" is finer than 1$/],
    ['-1', 'bytes', /"-1" is negative/],
    ['-500m', 'millicores', /is negative/],
    ['1gi', 'bytes', /not a Kubernetes quantity .*binary suffixes are written Ki, Mi, Gi/],
    ['16mi', 'bytes', /binary suffixes are written/],
    ['1K', 'bytes', /kilo is a lower-case k/],
    ['50GiB', 'bytes', /without B/],
    ['500MB', 'bytes', /without B/],
    ['12 Gi', 'bytes', /remove the spaces/],
    ['Gi', 'bytes', /not a Kubernetes quantity/],
    ['', 'bytes', /not a Kubernetes quantity/],
    ['.', 'bytes', /not a Kubernetes quantity/],
    ['1..5', 'bytes', /not a Kubernetes quantity/],
    ['0x10', 'bytes', /not a Kubernetes quantity/],
    ['1e', 'bytes', /not a Kubernetes quantity/],
    ['lots', 'bytes', /not a Kubernetes quantity/],
    ['9Ei', 'bytes', /too large/],
    ['1e99', 'bytes', /exponent beyond/],
    ['1'.repeat(65), 'bytes', /longer than 64 characters/],
  ] as const)('refuses %p as %p, saying why', (text, unit, reason) => {
    expect(() => parseQuantity(text, unit)).toThrow(QuantityError);
    expect(() => parseQuantity(text, unit)).toThrow(reason);
  });

  it('formats canonical quantities that read back to the same value', () => {
    for (const [value, unit] of [[8000, 'millicores'], [500, 'millicores'], [64 * GI, 'bytes'], [1e9, 'bytes'], [1536, 'bytes'], [3, 'count']] as const) {
      expect(parseQuantity(formatQuantity(value, unit), unit)).toBe(value);
    }
    expect(formatQuantity(8000, 'millicores')).toBe('8');
    expect(formatQuantity(250, 'millicores')).toBe('250m');
    expect(formatQuantity(64 * GI, 'bytes')).toBe('64Gi');
    expect(formatQuantity(1536, 'bytes')).toBe('1536');
  });
});
