import { SecretBox } from './secret-box';
import { signatureHeader, verifySignature } from './signature';
import { retryDelayMs } from './webhook-dispatcher';

describe('retryDelayMs', () => {
  it('doubles from the base up to the cap, jittered within the upper half', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, 1000, 60_000, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, 1000, 60_000, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelayMs(30, 1000, 60_000, () => 1)).toBe(60_000);
    expect(retryDelayMs(1000, 1000, 60_000, () => 1)).toBe(60_000);
  });
});

describe('SecretBox', () => {
  it('seals with AES-GCM when keyed, so the database never holds the secret', () => {
    const box = new SecretBox('a-key-for-sealing-webhook-secrets-0123456789');
    const sealed = box.seal('whsec_abc');
    expect(sealed).toMatch(/^v1:/);
    expect(sealed).not.toContain('whsec_abc');
    expect(box.open(sealed)).toBe('whsec_abc');
    expect(box.seal('whsec_abc')).not.toBe(sealed);
  });

  it('refuses to open with another key or after tampering', () => {
    const sealed = new SecretBox('a-key-for-sealing-webhook-secrets-0123456789').seal('whsec_abc');
    expect(() => new SecretBox('another-key-for-sealing-webhook-secrets-000').open(sealed)).toThrow();
    const parts = sealed.split(':');
    parts[3] = Buffer.from('whsec_abd').toString('base64url');
    expect(() => new SecretBox('a-key-for-sealing-webhook-secrets-0123456789').open(parts.join(':'))).toThrow();
    expect(() => new SecretBox(undefined).open(sealed)).toThrow(/WEBHOOK_SECRET_KEY/);
  });

  it('stores secrets marked plain without a key, and still reads them once a key is set', () => {
    const sealed = new SecretBox(undefined).seal('whsec_abc');
    expect(sealed).toBe('plain:whsec_abc');
    expect(new SecretBox('a-key-for-sealing-webhook-secrets-0123456789').open(sealed)).toBe('whsec_abc');
  });
});

describe('verifySignature', () => {
  const now = 1_800_000_000_000;
  const t = now / 1000;

  it('accepts the header the dispatcher sends and any one matching v1 among several', () => {
    expect(verifySignature('s3cret', signatureHeader('s3cret', t, '{"a":1}'), '{"a":1}', 300, now)).toBe(true);
    const rotated = `${signatureHeader('s3cret', t, '{}')},v1=${'0'.repeat(64)}`;
    expect(verifySignature('s3cret', rotated, '{}', 300, now)).toBe(true);
  });

  it.each([
    ['a missing header', undefined],
    ['no timestamp', `v1=${'a'.repeat(64)}`],
    ['a stale timestamp', signatureHeader('s3cret', t - 301, '{}')],
    ['a future timestamp', signatureHeader('s3cret', t + 301, '{}')],
    ['another secret', signatureHeader('other', t, '{}')],
    ['a malformed digest', `t=${t},v1=xyz`],
  ])('refuses %s', (_, header) => {
    expect(verifySignature('s3cret', header, '{}', 300, now)).toBe(false);
  });
});
