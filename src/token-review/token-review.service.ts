import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuthContext } from '../auth/auth-context';
import { AuthService } from '../auth/auth.service';
import { lowerRole, Role } from '../auth/roles';
import { WharfError } from '../common/errors/wharf-error';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import type { FailureBudget } from '../auth/failure-budget';
import {
  kubernetesUsername,
  PLATFORM_ADMIN_GROUP,
  projectGroup,
  TOKEN_ID_EXTRA,
  TokenReviewResponse,
  tokenReviewRequest,
} from './token-review';

/**
 * Kubernetes webhook token authentication: kube-apiserver asks whether a bearer token is a
 * Wharf token and who it belongs to. Invalid, expired and revoked tokens are an answer
 * (`authenticated: false` with an error), not an HTTP error; a review that is not a
 * TokenReview is a 400.
 */
@Injectable()
export class TokenReviewService {
  private readonly audiences: string[] | null;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(WHARF_CONFIG) config: WharfConfig,
  ) {
    const configured = (config.TOKENREVIEW_AUDIENCES ?? '').split(',').map((audience) => audience.trim()).filter(Boolean);
    this.audiences = configured.length ? configured : null;
  }

  /** With the caller's failure budget, every refused token counts against the caller (429 over it). */
  async review(body: unknown, budget?: FailureBudget): Promise<TokenReviewResponse> {
    const parsed = tokenReviewRequest.safeParse(body);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((issue) => ({ field: issue.path.join('.') || 'body', message: issue.message }));
      throw new WharfError('validation_failed', `Not a TokenReview: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, { errors });
    }
    const { apiVersion, spec } = parsed.data;
    const refuse = (error: string): TokenReviewResponse => ({ apiVersion, kind: 'TokenReview', status: { authenticated: false, error } });

    let auth: AuthContext;
    try {
      auth = await this.auth.authenticate(spec.token, budget);
    } catch (error) {
      // Over its budget the caller gets 429, not an answer about this token.
      if (error instanceof WharfError && error.code !== 'rate_limited') return refuse(error.detail);
      throw error;
    }
    let audiences: string[] | undefined;
    if (spec.audiences?.length) {
      // Wharf tokens are not minted for an audience: they are good for the audiences this
      // registry is configured to serve (TOKENREVIEW_AUDIENCES), or for any when none are set.
      audiences = this.audiences ? spec.audiences.filter((audience) => this.audiences!.includes(audience)) : spec.audiences;
      if (audiences.length === 0) return refuse('The token is not valid for any of the requested audiences');
    }
    return {
      apiVersion,
      kind: 'TokenReview',
      status: {
        authenticated: true,
        user: {
          username: kubernetesUsername(auth.principalName),
          uid: auth.principalId,
          groups: await this.groups(auth),
          extra: { [TOKEN_ID_EXTRA]: [auth.tokenId] },
        },
        ...(audiences ? { audiences } : {}),
      },
    };
  }

  /**
   * One group per project the token acts in, with the effective role: the membership role
   * (admin in every project for platform admins), limited to the token's project and capped
   * by its role ceiling, exactly as the registry's own access guard decides.
   */
  private async groups(auth: AuthContext): Promise<string[]> {
    const rows: { name: string; role: Role | null }[] = await this.dataSource.query(
      `SELECT pr.name, m.role FROM projects pr
         LEFT JOIN project_members m ON m.project_id = pr.id AND m.principal_id = $1
        WHERE ($2::uuid IS NULL OR pr.id = $2::uuid) AND ($3 OR m.role IS NOT NULL)
        ORDER BY pr.name`,
      [auth.principalId, auth.tokenProjectId, auth.platformAdmin],
    );
    const groups = rows.map((row) => projectGroup(row.name, lowerRole(auth.platformAdmin ? 'admin' : row.role!, auth.roleCeiling)));
    const unrestricted = auth.platformAdmin && !auth.tokenProjectId && (auth.roleCeiling ?? 'admin') === 'admin';
    return unrestricted ? [PLATFORM_ADMIN_GROUP, ...groups] : groups;
  }
}
