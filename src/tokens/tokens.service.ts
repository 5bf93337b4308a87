import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { WharfError } from '../common/errors/wharf-error';
import { Page, paginate } from '../common/pagination/cursor';
import { assertName } from '../common/validation/names';
import { InvalidationService } from '../invalidation/invalidation.service';
import { Project } from '../projects/project.entity';
import { ApiToken } from '../auth/api-token.entity';
import { Actor, AuthContext } from '../auth/auth-context';
import { AuthService } from '../auth/auth.service';
import { CreatedTokenDto, CreateTokenDto, ListTokensQuery, TokenDto } from './dto/token.dto';
import { Principal, PrincipalKind } from '../auth/principal.entity';
import { lowerRole, roleAtLeast } from '../auth/roles';
import { generateToken, hashTokenSecret } from '../auth/token-secret';

const DAY_MS = 24 * 60 * 60 * 1000;

@Injectable()
export class TokensService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(InvalidationService) private readonly invalidation: InvalidationService,
  ) {}

  async create(caller: AuthContext, actor: Actor, dto: CreateTokenDto): Promise<CreatedTokenDto> {
    const principalName = dto.principal === undefined ? caller.principalName : assertName('principal', dto.principal);
    const forSelf = principalName === caller.principalName;
    if (!forSelf && !this.isUnrestrictedPlatformAdmin(caller)) {
      throw new WharfError('forbidden', 'Only a platform admin token without project scope can create tokens for others');
    }
    const expiresAt = this.expiry(dto);

    // A token never reaches further than the token that made it.
    let projectId: string | null = caller.tokenProjectId;
    let projectName: string | null = null;
    if (dto.project !== undefined) {
      const access = await this.auth.projectAccess(caller, assertName('project', dto.project, 'project'));
      if (!access) throw new WharfError('project_not_found', `No project "${dto.project}"`);
      projectId = access.id;
      projectName = access.name;
    } else if (projectId) {
      projectName = (await this.dataSource.getRepository(Project).findOneByOrFail({ id: projectId })).name;
    }
    const ceiling = caller.roleCeiling ? lowerRole(caller.roleCeiling, dto.role) : (dto.role ?? null);
    if (dto.role && caller.roleCeiling && !roleAtLeast(caller.roleCeiling, dto.role)) {
      throw new WharfError('forbidden', `The calling token is capped at ${caller.roleCeiling}; it cannot create a ${dto.role} token`, {
        errors: [{ field: 'role', message: `at most ${caller.roleCeiling}` }],
      });
    }

    const { token: secret, displayPrefix } = generateToken();
    const token = await this.dataSource.transaction(async (manager) => {
      const principal = forSelf
        ? await manager.findOneByOrFail(Principal, { id: caller.principalId })
        : await this.findOrCreatePrincipal(manager, principalName, dto.principalKind ?? 'user', actor);
      const saved = await manager.save(
        manager.create(ApiToken, {
          principalId: principal.id,
          name: dto.name,
          secretSha256: hashTokenSecret(secret),
          tokenPrefix: displayPrefix,
          projectId,
          roleCeiling: ceiling,
          expiresAt,
          createdBy: caller.principalId,
        }),
      );
      await this.audit.record(manager, actor, {
        action: 'token.create',
        target: `token:${saved.id}`,
        project: projectName,
        details: { principal: principal.name, name: dto.name, role: ceiling, expiresAt: expiresAt?.toISOString() ?? null },
      });
      return saved;
    });
    return { ...(await this.get(caller, token.id)), token: secret };
  }

  async list(caller: AuthContext, query: ListTokensQuery): Promise<Page<TokenDto>> {
    const principalId = await this.visiblePrincipalId(caller, query.principal);
    const builder = this.dataSource
      .getRepository(ApiToken)
      .createQueryBuilder('token')
      .where('token.principal_id = :principalId', { principalId });
    if (query.all !== 'true') {
      builder.andWhere('token.revoked_at IS NULL').andWhere('(token.expires_at IS NULL OR token.expires_at > now())');
    }
    const page = await paginate(
      builder,
      { sort: 'createdAt', column: 'token.created_at', idColumn: 'token.id', cast: 'timestamptz', descending: false },
      query.cursor,
      query.limit,
    );
    return { items: await this.toDtos(page.items), nextCursor: page.nextCursor };
  }

  async get(caller: AuthContext, id: string): Promise<TokenDto> {
    const token = await this.findVisible(caller, id);
    return (await this.toDtos([token]))[0];
  }

  /** Revoking keeps the record (for the audit trail); a revoked token is refused at once. */
  async revoke(caller: AuthContext, actor: Actor, id: string): Promise<void> {
    const token = await this.findVisible(caller, id);
    await this.dataSource.transaction(async (manager) => {
      const result = await manager
        .createQueryBuilder()
        .update(ApiToken)
        .set({ revokedAt: () => 'now()' })
        .where('id = :id AND revoked_at IS NULL', { id: token.id })
        .execute();
      if (result.affected) {
        await this.audit.record(manager, actor, { action: 'token.revoke', target: `token:${token.id}` });
        // Every replica forgets its cached token decisions once this commits.
        await this.invalidation.publish(manager, { kind: 'auth' });
      }
    });
  }

  private async findVisible(caller: AuthContext, id: string): Promise<ApiToken> {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    const token = uuid.test(id) ? await this.dataSource.getRepository(ApiToken).findOneBy({ id }) : null;
    const visible = token && (token.principalId === caller.principalId || this.isUnrestrictedPlatformAdmin(caller));
    if (!token || !visible) throw new WharfError('token_not_found', `No token with id "${id}"`);
    return token;
  }

  private async visiblePrincipalId(caller: AuthContext, name: string | undefined): Promise<string> {
    if (name === undefined || name === caller.principalName) return caller.principalId;
    if (!this.isUnrestrictedPlatformAdmin(caller)) {
      throw new WharfError('forbidden', "Only a platform admin can list another principal's tokens");
    }
    const principal = await this.dataSource.getRepository(Principal).findOneBy({ name: assertName('principal', name) });
    if (!principal) throw new WharfError('principal_not_found', `No principal "${name}"`);
    return principal.id;
  }

  private isUnrestrictedPlatformAdmin(caller: AuthContext): boolean {
    return caller.platformAdmin && !caller.tokenProjectId && (!caller.roleCeiling || caller.roleCeiling === 'admin');
  }

  private expiry(dto: CreateTokenDto): Date | null {
    if (dto.expiresInDays !== undefined && dto.expiresAt !== undefined) {
      throw new WharfError('validation_failed', 'Give expiresInDays or expiresAt, not both', {
        errors: [{ field: 'expiresAt', message: 'conflicts with expiresInDays' }],
      });
    }
    if (dto.expiresInDays !== undefined) return new Date(Date.now() + dto.expiresInDays * DAY_MS);
    if (dto.expiresAt !== undefined) {
      const at = new Date(dto.expiresAt);
      if (at.getTime() <= Date.now()) {
        throw new WharfError('validation_failed', 'expiresAt must be in the future', {
          errors: [{ field: 'expiresAt', message: 'must be in the future' }],
        });
      }
      return at;
    }
    return null;
  }

  private async findOrCreatePrincipal(manager: EntityManager, name: string, kind: PrincipalKind, actor: Actor): Promise<Principal> {
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(Principal)
      .values({ name, kind, platformAdmin: false })
      .orIgnore()
      .execute();
    if (inserted.raw?.length) {
      await this.audit.record(manager, actor, { action: 'principal.create', target: `principal:${name}`, details: { kind } });
    }
    return manager.findOneByOrFail(Principal, { name });
  }

  private async toDtos(tokens: ApiToken[]): Promise<TokenDto[]> {
    if (tokens.length === 0) return [];
    const names: { token_id: string; principal: string; project: string | null }[] = await this.dataSource.query(
      `SELECT t.id AS token_id, p.name AS principal, pr.name AS project
         FROM api_tokens t JOIN principals p ON p.id = t.principal_id LEFT JOIN projects pr ON pr.id = t.project_id
        WHERE t.id = ANY($1)`,
      [tokens.map((token) => token.id)],
    );
    const byId = new Map(names.map((row) => [row.token_id, row]));
    return tokens.map((token) => ({
      id: token.id,
      name: token.name,
      prefix: token.tokenPrefix,
      principal: byId.get(token.id)!.principal,
      project: byId.get(token.id)!.project,
      role: token.roleCeiling,
      expiresAt: token.expiresAt?.toISOString() ?? null,
      revokedAt: token.revokedAt?.toISOString() ?? null,
      lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
      createdAt: token.createdAt.toISOString(),
    }));
  }
}
