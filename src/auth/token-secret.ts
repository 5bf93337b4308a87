import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Tokens look like `wharf_<public id>_<secret>`: 48 random bits in hex that are no secret (shown
 * in listings to tell tokens apart), then 256 random bits (43 base64url characters). The whole
 * string is the token and only its sha256 is stored; the public id is the only part of it kept
 * in the clear, so the shown prefix gives away nothing of the secret.
 */
export const TOKEN_PREFIX = 'wharf_';

export interface GeneratedToken {
  /** The token, shown once. */
  token: string;
  /** `wharf_<public id>`: what listings show. */
  displayPrefix: string;
}

export function generateToken(): GeneratedToken {
  const displayPrefix = TOKEN_PREFIX + randomBytes(6).toString('hex');
  return { token: `${displayPrefix}_${randomBytes(32).toString('base64url')}`, displayPrefix };
}

export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests of the same length. */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
