import { MAX_INPUT_DEPTH, unsafeInputProblems } from './safe-input';

describe('unsafeInputProblems', () => {
  const nested = (depth: number): unknown => (depth === 0 ? 1 : { a: nested(depth - 1) });

  it.each([
    ['a NUL in a string', { name: 'a\u0000b' }, 'name'],
    ['a NUL in a key', { metadata: { 'k\u0000': 1 } }, 'metadata.k\\u0000'],
    ['a lone high surrogate', { description: 'x\ud800' }, 'description'],
    ['a lone low surrogate', ['\udc00'], '0'],
    ['a number beyond 2^53', { limit: 1e20 }, 'limit'],
    ['an infinite number', { size: Infinity }, 'size'],
    ['__proto__ as a key', JSON.parse('{"__proto__":{"x":1}}'), '__proto__'],
    ['constructor holding an object', { constructor: { prototype: {} } }, 'constructor'],
    ['nesting past the limit', nested(MAX_INPUT_DEPTH + 1), 'a'],
  ])('names %s', (_, value, field) => {
    const problems = unsafeInputProblems(value, '');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0].field.startsWith(field)).toBe(true);
  });

  it.each([
    ['plain text and emoji', { description: 'modèle 💩 ok' }],
    ['a surrogate pair', { name: '\ud83d\udca9' }],
    ['2^53 - 1 and a fraction', { big: Number.MAX_SAFE_INTEGER, small: 0.761 }],
    ['constructor as a plain label', { labels: { constructor: 'x' } }],
    ['nesting up to the limit', nested(MAX_INPUT_DEPTH - 1)],
    ['null and booleans', { a: null, b: true }],
  ])('accepts %s', (_, value) => {
    expect(unsafeInputProblems(value, '')).toEqual([]);
  });
});
