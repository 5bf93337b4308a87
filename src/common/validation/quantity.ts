import { WharfError } from '../errors/wharf-error';

/**
 * Kubernetes resource quantities (`500m`, `8`, `64Gi`, `1.5G`, `2e3`), parsed exactly with
 * BigInt arithmetic into an integer count of a base unit: millicores for cpu, bytes for
 * memory and storage, devices for gpus. One parser for every quota field.
 */
const QUANTITY = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]{1,2})?$/;

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

export type QuantityUnit = 'millicores' | 'bytes' | 'count';

/** How many base units one whole quantity is (a cpu of "1" is 1000 millicores). */
const UNIT_SCALE: Record<QuantityUnit, bigint> = { millicores: 1000n, bytes: 1n, count: 1n };

function problem(field: string, message: string): WharfError {
  return new WharfError('validation_failed', `${field}: ${message}`, { errors: [{ field, message }] });
}

/**
 * Parses a quantity (a string, or a non-negative integer for plain counts) into base units.
 * Refuses negative values, fractions of the base unit and values beyond 2^53.
 */
export function parseQuantity(field: string, raw: unknown, unit: QuantityUnit): number {
  const text = typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0 ? String(raw) : raw;
  if (typeof text !== 'string' || text.length > 64) {
    throw problem(field, 'must be a Kubernetes quantity string such as "8", "500m" or "64Gi"');
  }
  const match = QUANTITY.exec(text);
  if (!match) throw problem(field, `"${text}" is not a Kubernetes quantity (e.g. "8", "500m", "64Gi")`);
  const [, mantissa, suffix = ''] = match;
  const [whole, fraction = ''] = mantissa.split('.');
  let numerator = BigInt(`${whole || '0'}${fraction}`) * UNIT_SCALE[unit];
  let denominator = 10n ** BigInt(fraction.length);
  if (suffix in BINARY) {
    numerator *= 2n ** BigInt(BINARY[suffix]);
  } else {
    const exponent = suffix in DECIMAL ? DECIMAL[suffix] : Number(suffix.slice(1));
    if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
    else denominator *= 10n ** BigInt(-exponent);
  }
  if (numerator % denominator !== 0n) {
    const smallest = unit === 'millicores' ? '1m' : unit === 'bytes' ? '1 byte' : '1';
    throw problem(field, `"${text}" is finer than ${smallest}`);
  }
  const value = numerator / denominator;
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw problem(field, `"${text}" is too large`);
  return Number(value);
}

/** The shortest canonical quantity for a value in base units: 8000 millicores → "8", 500 → "500m". */
export function formatQuantity(value: number, unit: QuantityUnit): string {
  if (unit === 'millicores') return value % 1000 === 0 ? String(value / 1000) : `${value}m`;
  if (unit === 'count' || value === 0) return String(value);
  for (const suffix of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki']) {
    const size = 2 ** BINARY[suffix];
    if (value % size === 0) return `${value / size}${suffix}`;
  }
  return String(value);
}
