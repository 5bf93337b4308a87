import { etagMatches, parseRange } from './range';

describe('parseRange', () => {
  it.each([
    ['no header', undefined, 100, undefined],
    ['a closed range', 'bytes=0-9', 100, { start: 0, end: 9 }],
    ['an open range', 'bytes=90-', 100, { start: 90, end: 99 }],
    ['an end past the size is cut to the size', 'bytes=90-500', 100, { start: 90, end: 99 }],
    ['a suffix', 'bytes=-10', 100, { start: 90, end: 99 }],
    ['a suffix longer than the file', 'bytes=-500', 100, { start: 0, end: 99 }],
    ['a start at the size', 'bytes=100-', 100, 'unsatisfiable'],
    ['a start past the size', 'bytes=1000-2000', 100, 'unsatisfiable'],
    ['any range of an empty file', 'bytes=0-', 0, 'unsatisfiable'],
    ['a zero suffix', 'bytes=-0', 100, 'unsatisfiable'],
    ['several ranges are ignored', 'bytes=0-1,5-6', 100, undefined],
    ['another unit is ignored', 'items=0-1', 100, undefined],
    ['an inverted range is ignored', 'bytes=9-1', 100, undefined],
  ])('%s', (_, header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
});

describe('etagMatches', () => {
  it('matches the same tag, a list holding it, a weak form of it and *', () => {
    expect(etagMatches('"abc"', '"abc"')).toBe(true);
    expect(etagMatches('"x", "abc"', '"abc"')).toBe(true);
    expect(etagMatches('W/"abc"', '"abc"')).toBe(true);
    expect(etagMatches('*', '"abc"')).toBe(true);
    expect(etagMatches('"abd"', '"abc"')).toBe(false);
    expect(etagMatches(undefined, '"abc"')).toBe(false);
  });
});
