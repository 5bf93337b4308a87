import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { WharfError } from '../common/errors/wharf-error';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { InvalidationService } from '../invalidation/invalidation.service';
import type { FailureBudget } from './failure-budget';
import { StampedCache } from '../invalidation/stamped-cache';
import { AuthContext, ProjectContext } from './auth-context';
import type { PrincipalKind } from './principal.entity';
import { lowerRole, Role } from './roles';
import { digestsEqual, hashTokenSecret } from './token-secret';

interface TokenRow {
  token_id: string;
  secret_sha256: string;
  project_id: string | null;
  role_ceiling: Role | null;
  expires_at: Date | null;
  expired: boolean;
  revoked: boolean;
  principal_id: string;
  principal_name: string;
  platform_admin: boolean;
  principal_kind: PrincipalKind;
}

/** Only the first use in a minute is written, so authentication is not a write per request. */
const LAST_USED_RESOLUTION_SECONDS = 60;

interface CachedToken {
  context: AuthContext;
  expiresAtMs: number | null;
  touchedAtMs: number;
}

/**
 * Token and project-role decisions are cached in-process (keyed by the token's sha256, never
 * the token) so the hot read paths make no database round trip. Only successful decisions
 * are cached; revoking a token and changing memberships or projects publish an `auth`
 * invalidation in their transaction, which every replica applies within a moment, and a
 * cached token past its expiry is looked up afresh.
 */
@Injectable()
export class AuthService {
  private readonly tokens: StampedCache<CachedToken>;
  private readonly access: StampedCache<ProjectContext>;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(InvalidationService) private readonly invalidation: InvalidationService,
    @Inject(WHARF_CONFIG) config: WharfConfig,
  ) {
    this.tokens = new StampedCache(config.CACHE_MAX_ENTRIES, config.CACHE_TTL_SECONDS);
    this.access = new StampedCache(config.CACHE_MAX_ENTRIES, config.CACHE_TTL_SECONDS);
  }

  /**
   * The cached decision for a token, if there is a current one (synchronous, for hot paths).
   * Undefined means "ask authenticate()", never "refused".
   */
  cachedAuthentication(secret: string, digest = hashTokenSecret(secret)): AuthContext | undefined {
    const cached = this.tokens.get(this.invalidation.authStamp(), digest);
    const now = Date.now();
    if (!cached || (cached.expiresAtMs !== null && cached.expiresAtMs <= now)) return undefined;
    if (now - cached.touchedAtMs >= LAST_USED_RESOLUTION_SECONDS * 1000) {
      cached.touchedAtMs = now;
      void this.touch(cached.context.tokenId);
    }
    return cached.context;
  }

  /**
   * Who a bearer token belongs to; throws 401 with a precise code when it cannot be used. With
   * the caller's failure budget, a token that needs a lookup is refused (429) once the caller
   * has failed too often, and each failure counts against it.
   */
  async authenticate(secret: string, budget?: FailureBudget): Promise<AuthContext> {
    const digest = hashTokenSecret(secret);
    const stamp = this.invalidation.authStamp();
    const hit = this.cachedAuthentication(secret, digest);
    if (hit) return hit;
    await budget?.assertAllowed();
    const failed = async (error: WharfError) => {
      await budget?.countFailure();
      return error;
    };
    const now = Date.now();
    const rows: TokenRow[] = await this.dataSource.query(
      `SELECT t.id AS token_id, t.secret_sha256, t.project_id, t.role_ceiling, t.expires_at,
              (t.expires_at IS NOT NULL AND t.expires_at <= now()) AS expired,
              (t.revoked_at IS NOT NULL) AS revoked,
              p.id AS principal_id, p.name AS principal_name, p.platform_admin, p.kind AS principal_kind
         FROM api_tokens t JOIN principals p ON p.id = t.principal_id
        WHERE t.secret_sha256 = $1`,
      [digest],
    );
    const row = rows[0];
    // The lookup is by digest; the constant-time comparison keeps that true even if the
    // query is ever changed to match on a prefix.
    if (!row || !digestsEqual(row.secret_sha256, digest)) {
      throw await failed(new WharfError('token_invalid', 'The bearer token is not a known Wharf token'));
    }
    if (row.revoked) throw await failed(new WharfError('token_revoked', 'The bearer token has been revoked'));
    if (row.expired) throw await failed(new WharfError('token_expired', 'The bearer token has expired'));
    void this.touch(row.token_id);
    const context: AuthContext = {
      principalId: row.principal_id,
      principalName: row.principal_name,
      platformAdmin: row.platform_admin,
      principalKind: row.principal_kind,
      tokenId: row.token_id,
      tokenProjectId: row.project_id,
      roleCeiling: row.role_ceiling,
    };
    this.tokens.set(stamp, digest, { context, expiresAtMs: row.expires_at?.getTime() ?? null, touchedAtMs: now });
    return context;
  }

  /**
   * The caller's effective role in a project: platform admins are admins everywhere, others
   * have their membership role; a project-scoped token sees only its project, and a role
   * ceiling caps the result. Null when the caller may not even know the project exists.
   */
  /** The cached role of a token in a project, if there is a current one (synchronous). */
  cachedProjectAccess(auth: AuthContext, projectName: string): ProjectContext | undefined {
    return this.access.get(this.invalidation.authStamp(), `${auth.tokenId}\n${projectName}`);
  }

  async projectAccess(auth: AuthContext, projectName: string): Promise<ProjectContext | null> {
    const stamp = this.invalidation.authStamp();
    const key = `${auth.tokenId}\n${projectName}`;
    const cached = this.access.get(stamp, key);
    if (cached) return cached;
    const access = await this.lookupProjectAccess(auth, projectName);
    if (access) this.access.set(stamp, key, access);
    return access;
  }

  private async lookupProjectAccess(auth: AuthContext, projectName: string): Promise<ProjectContext | null> {
    const rows: { id: string; name: string; role: Role | null }[] = await this.dataSource.query(
      `SELECT pr.id, pr.name, m.role
         FROM projects pr
         LEFT JOIN project_members m ON m.project_id = pr.id AND m.principal_id = $2
        WHERE pr.name = $1`,
      [projectName, auth.principalId],
    );
    const project = rows[0];
    if (!project) return null;
    if (auth.tokenProjectId && auth.tokenProjectId !== project.id) return null;
    // A node agent pulls whatever its node is assigned, from any project, so it reads every
    // project; it never gets more than viewer from that (a membership can still grant more).
    const nodeAgentRole: Role | null = auth.principalKind === 'node-agent' ? 'viewer' : null;
    const role: Role | null = auth.platformAdmin ? 'admin' : (project.role ?? nodeAgentRole);
    if (!role) return null;
    return { id: project.id, name: project.name, role: lowerRole(role, auth.roleCeiling) };
  }

  private async touch(tokenId: string): Promise<void> {
    try {
      await this.dataSource.query(
        `UPDATE api_tokens SET last_used_at = now()
          WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2))`,
        [tokenId, LAST_USED_RESOLUTION_SECONDS],
      );
    } catch {
      // Recording last use is best effort; it must never fail the request.
    }
  }
}
