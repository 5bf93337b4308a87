import { DataSource } from 'typeorm';
import { SYSTEM_ACTOR } from '../auth/auth-context';
import { AuditService } from '../audit/audit.service';
import { generateToken, hashTokenSecret } from '../auth/token-secret';
import { INVALIDATION_CHANNEL } from '../invalidation/invalidation.service';

export const ADMIN_PRINCIPAL = 'admin';
const BOOTSTRAP_TOKEN_NAME = 'bootstrap';

export interface BootstrapResult {
  /** Set only when a token was generated on this start; it is shown once and never again. */
  generatedToken?: string;
}

/**
 * Makes sure a platform admin can log in. With WHARF_ADMIN_TOKEN, that token is the admin's
 * bootstrap token (a changed value revokes the previous one). Without it, a token is generated
 * on the very first start only and returned for printing.
 */
export async function bootstrapAdmin(dataSource: DataSource, adminToken: string | undefined): Promise<BootstrapResult> {
  const audit = new AuditService();
  return dataSource.transaction(async (manager) => {
    const inserted: { id: string }[] = await manager.query(
      `INSERT INTO principals (name, kind, platform_admin) VALUES ($1, 'user', true)
       ON CONFLICT (name) DO NOTHING RETURNING id`,
      [ADMIN_PRINCIPAL],
    );
    const firstStart = inserted.length > 0;
    const [{ id: adminId }]: { id: string }[] = await manager.query(`SELECT id FROM principals WHERE name = $1`, [ADMIN_PRINCIPAL]);
    if (firstStart) {
      await audit.record(manager, SYSTEM_ACTOR, { action: 'principal.create', target: `principal:${ADMIN_PRINCIPAL}`, details: { platformAdmin: true } });
    }

    if (adminToken) {
      const digest = hashTokenSecret(adminToken);
      const revoked: unknown[] = await manager.query(
        `UPDATE api_tokens SET revoked_at = now()
          WHERE principal_id = $1 AND name = $2 AND secret_sha256 <> $3 AND revoked_at IS NULL RETURNING id`,
        [adminId, BOOTSTRAP_TOKEN_NAME, digest],
      );
      // Replicas still running with the previous value forget it as this commits (rotation).
      if (revoked.length) await manager.query('SELECT pg_notify($1, $2)', [INVALIDATION_CHANNEL, JSON.stringify({ kind: 'auth' })]);
      // The operator chose this token: no part of it is stored, not even a prefix (token_prefix NULL).
      const created: unknown[] = await manager.query(
        `INSERT INTO api_tokens (principal_id, name, secret_sha256, token_prefix)
         VALUES ($1, $2, $3, NULL) ON CONFLICT (secret_sha256) DO NOTHING RETURNING id`,
        [adminId, BOOTSTRAP_TOKEN_NAME, digest],
      );
      if (created.length) {
        await audit.record(manager, SYSTEM_ACTOR, { action: 'token.create', target: `principal:${ADMIN_PRINCIPAL}`, details: { source: 'WHARF_ADMIN_TOKEN' } });
      }
      return {};
    }
    if (!firstStart) return {};
    const { token: secret, displayPrefix } = generateToken();
    await manager.query(
      `INSERT INTO api_tokens (principal_id, name, secret_sha256, token_prefix) VALUES ($1, $2, $3, $4)`,
      [adminId, BOOTSTRAP_TOKEN_NAME, hashTokenSecret(secret), displayPrefix],
    );
    await audit.record(manager, SYSTEM_ACTOR, { action: 'token.create', target: `principal:${ADMIN_PRINCIPAL}`, details: { source: 'generated' } });
    return { generatedToken: secret };
  });
}
