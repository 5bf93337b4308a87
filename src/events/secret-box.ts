import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Webhook secrets must be readable by the registry (it signs with them), so they cannot be
 * hashed like tokens. With WEBHOOK_SECRET_KEY they are sealed with AES-256-GCM
 * (`v1:<iv>:<tag>:<ciphertext>`, base64url); without it they are stored as `plain:<secret>`
 * and docs/governance.md says to set the key in production.
 */
export class SecretBox {
  private readonly key: Buffer | null;

  constructor(keyMaterial: string | undefined) {
    this.key = keyMaterial ? createHash('sha256').update(keyMaterial, 'utf8').digest() : null;
  }

  seal(secret: string): string {
    if (!this.key) return `plain:${secret}`;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), ciphertext].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join(':');
  }

  open(sealed: string): string {
    if (sealed.startsWith('plain:')) return sealed.slice('plain:'.length);
    const [version, iv, tag, ciphertext] = sealed.split(':');
    if (version !== 'v1' || !this.key) throw new Error('a webhook secret is sealed but WEBHOOK_SECRET_KEY is not set (or wrong)');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}
