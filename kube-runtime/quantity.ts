/**
 * Kubernetes resource quantities, read by Kubernetes' own rules (k8s.io/apimachinery
 * `resource.Quantity`), for every program that takes one: the registry's quotas, the node
 * agent's byte budgets, the operator's resources next.
 *
 *   quantity ::= [+] number [suffix]        number ::= digits | digits.digits | digits. | .digits
 *   suffix   ::= Ki | Mi | Gi | Ti | Pi | Ei          (binary: powers of 1024)
 *              | n | u | m | "" | k | M | G | T | P | E   (decimal: 10^-9 … 10^18)
 *              | e<int> | E<int>                      (decimal exponent: 1e3 = 1000)
 *
 * The suffixes are case-sensitive as in Kubernetes: `m` is milli, so `500m` is 0.5, never 500 MB
 * (`500M` is 500·10^6, `500Mi` 500·2^20); `1k` is 1000 but `1K` is not a quantity. Values are kept
 * exact (BigInt) until they are turned into a whole count of a base unit, so `1.5Gi` is exactly
 * 1610612736 bytes and `0.1m` of cpu is refused, not rounded. Negative quantities are valid in
 * Kubernetes but no Wharf setting takes one, so they are refused with their own reason.
 */
const QUANTITY = /^\+?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;

const BINARY_EXPONENT: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_EXPONENT: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
/** Past 10^±30 no setting makes sense, and the exact arithmetic would grow without bound. */
const MAX_DECIMAL_EXPONENT = 30;
const MAX_LENGTH = 64;

export type QuantityUnit = 'millicores' | 'bytes' | 'count';

/** How many base units one whole quantity is: a cpu of `1` is 1000 millicores. */
const UNIT_SCALE: Record<QuantityUnit, bigint> = { millicores: 1000n, bytes: 1n, count: 1n };
const SMALLEST: Record<QuantityUnit, string> = { millicores: '1m (a thousandth of a cpu)', bytes: '1 byte', count: '1' };

/** Why a text is not a quantity this setting can take; the message reads after `NAME=value: `. */
export class QuantityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuantityError';
  }
}

/** A quantity as an exact fraction (numerator / denominator, both ≥ 0, denominator > 0). */
export interface ExactQuantity {
  numerator: bigint;
  denominator: bigint;
}

/** Reads `text` by Kubernetes' grammar into an exact fraction, or throws a QuantityError saying why. */
export function readQuantity(text: string): ExactQuantity {
  if (text.length > MAX_LENGTH) throw new QuantityError(`is longer than ${MAX_LENGTH} characters`);
  if (/^-/.test(text)) throw new QuantityError(`"${text}" is negative; it must be 0 or more`);
  const match = QUANTITY.exec(text);
  if (!match) throw new QuantityError(`"${text}" is not a Kubernetes quantity (such as 8, 500m, 1.5Gi, 64G or 1e3)${hint(text)}`);
  const [, mantissa, suffix = ''] = match;
  const [whole, fraction = ''] = mantissa.split('.');
  let numerator = BigInt(`${whole || '0'}${fraction}`);
  let denominator = 10n ** BigInt(fraction.length);
  if (suffix in BINARY_EXPONENT) {
    numerator *= 2n ** BigInt(BINARY_EXPONENT[suffix]);
  } else {
    const exponent = suffix in DECIMAL_EXPONENT ? DECIMAL_EXPONENT[suffix] : Number(suffix.slice(1));
    if (Math.abs(exponent) > MAX_DECIMAL_EXPONENT) throw new QuantityError(`"${text}" has an exponent beyond ±${MAX_DECIMAL_EXPONENT}`);
    if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
    else denominator *= 10n ** BigInt(-exponent);
  }
  return { numerator, denominator };
}

/** Common slips, named: lower-case binary suffixes, `K`, a unit written after the suffix, spaces. */
function hint(text: string): string {
  if (/\s/.test(text)) return '; remove the spaces';
  if (/^[0-9.]+(ki|mi|gi|ti|pi|ei)$/.test(text)) return `; binary suffixes are written Ki, Mi, Gi, Ti, Pi, Ei`;
  if (/^[0-9.]+K$/.test(text)) return '; kilo is a lower-case k (1k = 1000), or Ki for 1024';
  if (/^[0-9.]+([kMGTPE]|[KMGTPE]i)B$/i.test(text)) return '; write the suffix without B (e.g. 50Gi, not 50GiB)';
  return '';
}

/**
 * A quantity as a whole count of `unit`'s base unit (millicores, bytes or devices). Refuses a
 * value finer than the base unit (`500m` bytes, `0.1m` cpu, `1.5` gpus) and one past 2^53.
 */
export function parseQuantity(text: string, unit: QuantityUnit): number {
  const exact = readQuantity(text);
  const numerator = exact.numerator * UNIT_SCALE[unit];
  if (numerator % exact.denominator !== 0n) throw new QuantityError(finerThanBase(text, unit));
  const value = numerator / exact.denominator;
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new QuantityError(`"${text}" is too large (at most ${Number.MAX_SAFE_INTEGER} ${unit})`);
  return Number(value);
}

function finerThanBase(text: string, unit: QuantityUnit): string {
  const base = `"${text}" is finer than ${SMALLEST[unit]}`;
  if (unit === 'bytes' && text.endsWith('m')) return `${base}: in Kubernetes quantities m means milli (500m = 0.5); write ${text.slice(0, -1)}M for 10^6 bytes or ${text.slice(0, -1)}Mi for 2^20`;
  if (unit === 'bytes') return `${base}: a byte size must be a whole number of bytes`;
  return base;
}

/** The shortest canonical quantity for a value in base units: 8000 millicores → "8", 500 → "500m", 2^30 bytes → "1Gi". */
export function formatQuantity(value: number, unit: QuantityUnit): string {
  if (unit === 'millicores') return value % 1000 === 0 ? String(value / 1000) : `${value}m`;
  if (unit === 'count' || value === 0) return String(value);
  for (const suffix of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki']) {
    const size = 2 ** BINARY_EXPONENT[suffix];
    if (value % size === 0) return `${value / size}${suffix}`;
  }
  return String(value);
}
