import { gzipSync } from 'node:zlib';

/**
 * The malformed inputs of the route fuzz test (test/foundation/fuzz-routes.test.ts): every value
 * here must be refused by any route it is sent to. Values are raw, as they go on the wire: path
 * and query values percent-encoded, bodies as bytes.
 */

/** A small seeded PRNG (mulberry32), so a failing run can be repeated with its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: () => number, items: readonly T[], count: number): T[] {
  const pool = [...items];
  const chosen: T[] = [];
  while (chosen.length < count && pool.length) chosen.push(pool.splice(Math.floor(random() * pool.length), 1)[0]);
  return chosen;
}

/**
 * Path segments that are no valid name, number, id or file path of any kind: traversal,
 * encoded slashes, NUL and control characters, bad UTF-8, lone surrogates, odd Unicode, huge.
 */
export const BAD_SEGMENTS = [
  '..',
  '.',
  '%2E%2E',
  '..%2F..%2Fetc',
  'a%2Fb',
  '%2F',
  '%5C..%5C',
  '%00',
  'a%00b',
  '%0A',
  '%0D%0Aset-cookie:x',
  '%20',
  'A%20B',
  '%FF',
  '%C0%AF',
  '%ED%A0%80',
  '%F0%9F%92%A9',
  '%E2%80%AE',
  'mod%C3%A8le',
  '%EF%BC%A1',
  '%25',
  '%25%30%30',
  '-1',
  '-',
  '_',
  'x'.repeat(3000),
  '%7B%7D',
  '%5B%5D',
  '%22%3Cscript%3E',
];

/** Numbers that are no version or part number. */
export const BAD_NUMBERS = ['0', '-1', '1.5', '1e3', '+1', '0x10', '99999999999999999999', '2147483648', '9007199254740993', 'NaN', 'Infinity', '%201'];

/** Query values to put in any parameter; `name` is the parameter's name. */
export function badQueries(name: string): string[] {
  return [
    `${name}=%00`,
    `${name}=a%00b`,
    `${name}=%ED%A0%80`,
    `${name}=%FF%FE`,
    `${name}=99999999999999999999`,
    `${name}=-1`,
    `${name}=1.5`,
    `${name}=1e400`,
    `${name}=NaN`,
    `${name}=`,
    `${name}=${'x'.repeat(5000)}`,
    `${name}[]=1&${name}[]=2`,
    `${name}[a]=1`,
    `${name}[__proto__][x]=1`,
    `${name}=%2E%2E%2F%2E%2E`,
    `${name}=mod%C3%A8le%F0%9F%92%A9`,
  ];
}

export interface RawBody {
  label: string;
  contentType?: string;
  headers?: Record<string, string>;
  body: Buffer;
}

const json = (label: string, body: string | Buffer, headers: Record<string, string> = {}, contentType = 'application/json'): RawBody => ({
  label,
  contentType,
  headers,
  body: Buffer.from(body),
});

/** Bodies no JSON route may take, whatever its fields. */
export function badBodies(hasRequired: boolean): RawBody[] {
  const bodies: RawBody[] = [
    json('text/plain', '{"name":"x"}', {}, 'text/plain'),
    json('form-urlencoded', 'name=x&storage=1', {}, 'application/x-www-form-urlencoded'),
    json('xml', '<name>x</name>', {}, 'application/xml'),
    json('octet-stream', '{}', {}, 'application/octet-stream'),
    json('multipart', '--BB\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--BB--\r\n', {}, 'multipart/form-data; boundary=BB'),
    { label: 'no Content-Type', body: Buffer.from('{"name":"x"}') },
    json('a latin1 charset', '{}', {}, 'application/json; charset=latin1'),
    json('a utf-16 charset', '{}', {}, 'application/json; charset=utf-16'),
    json('truncated JSON', '{"name":'),
    json('not JSON', 'nul'),
    json('trailing garbage', '{}garbage'),
    json('a raw NUL byte', '{"a":"\u0000"'),
    json('an array', '[]'),
    json('an array of objects', '[{}]'),
    json('a string', '"x"'),
    json('a number', '123'),
    json('null', 'null'),
    json('true', 'true'),
    json('an unknown field', '{"zzUnknownField":1}'),
    json('a prototype key', '{"__proto__":{"polluted":true}}'),
    json('a constructor key', '{"constructor":{"prototype":{"polluted":true}}}'),
    json('a constructor field', '{"constructor":1,"hasOwnProperty":"x","toString":"y"}'),
    json('deep objects', '{"zz":' + '{"a":'.repeat(5000) + '1' + '}'.repeat(5000) + '}'),
    json('deep arrays', '{"zz":' + '['.repeat(5000) + ']'.repeat(5000) + '}'),
    json('bad gzip', 'this is not gzip', { 'Content-Encoding': 'gzip' }),
    json('truncated gzip', gzipSync(Buffer.from('{"zz":1}')).subarray(0, 14), { 'Content-Encoding': 'gzip' }),
    json('bad deflate', 'this is not deflate', { 'Content-Encoding': 'deflate' }),
    json('bad br', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x01]), { 'Content-Encoding': 'br' }),
    json('an unknown encoding', '{}', { 'Content-Encoding': 'compress' }),
  ];
  // Only where a field is required is an empty body malformed; elsewhere it means "defaults".
  if (hasRequired) bodies.push(json('an empty body', ''), json('an empty object', '{}'));
  return bodies;
}

export interface PropertySchema {
  type?: string;
  nullable?: boolean;
  maxLength?: number;
  maximum?: number;
  oneOf?: unknown[];
  enum?: unknown[];
  $ref?: string;
  items?: PropertySchema;
}

/**
 * JSON texts of a value that no property of this schema accepts: wrong types, strings the
 * database cannot hold, null where not nullable, too long, too deep, out of range.
 */
export function badValues(schema: PropertySchema): string[] {
  const values = ['"a\\u0000b"', '"\\ud800"', '"x\\udc00y"', '{"a":{"b":"\\u0000"}}', '{"\\u0000":1}', '1e400', '99999999999999999999'];
  values.push('{"k":' + '['.repeat(200) + ']'.repeat(200) + '}');
  if (!schema.nullable) values.push('null');
  const typed = !schema.oneOf && schema.type !== undefined;
  if (typed && schema.type === 'string') values.push('12345', 'true', '{}', '[]', '["a"]');
  if (typed && (schema.type === 'integer' || schema.type === 'number')) values.push('"12"', '"abc"', 'true', '{}', '[]', '-99999999999999999999');
  if (typed && schema.type === 'integer') values.push('1.5');
  if (typed && schema.type === 'object') values.push('"x"', '[]', '[[]]', '1');
  if (typed && schema.type === 'array') values.push('{}', '"x"', '[[]]', '[null]', '[1]', '["x"]', '[{"zzUnknownField":1}]');
  if (typed && schema.type === 'boolean') values.push('"true"', '1', '{}');
  if (schema.maxLength !== undefined) values.push(JSON.stringify('x'.repeat(schema.maxLength + 1)), JSON.stringify('y'.repeat(200_000)));
  if (schema.maximum !== undefined) values.push(String(schema.maximum + 1));
  if (schema.enum) values.push('"zz-not-a-member"');
  return values;
}
