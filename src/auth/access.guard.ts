import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { WharfError } from '../common/errors/wharf-error';
import { assertName } from '../common/validation/names';
import { FAILURE_BUDGETS, FailureBudgets } from './failure-budget';
import { ACCESS_METADATA, AccessRule } from './access.decorator';
import { AuthService } from './auth.service';
import { WharfRequest } from './auth-context';
import { roleAtLeast } from './roles';
import { UPLOAD_OWNERS, UploadOwners } from './upload-owners';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The global guard. A route without an access decision is treated as needing a token (never
 * as public); the route-table test makes sure no route relies on that.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(FAILURE_BUDGETS) private readonly failures: FailureBudgets,
    @Inject(ModuleRef) private readonly modules: ModuleRef,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]) ?? { kind: 'authenticated' };
    if (rule.kind === 'public') return true;

    const request = context.switchToHttp().getRequest<WharfRequest>();
    const header = request.headers.authorization;
    if (!header) {
      throw new WharfError('unauthenticated', 'Send a Wharf token as "Authorization: Bearer <token>"');
    }
    const budget = this.failures.forRequest(request, context.switchToHttp().getResponse<Response>());
    const match = BEARER.exec(header);
    if (!match) {
      await budget.assertAllowed();
      await budget.countFailure();
      throw new WharfError('token_invalid', 'The Authorization header must be "Bearer <token>"');
    }
    const auth = await this.auth.authenticate(match[1], budget);
    request.auth = auth;

    if (rule.kind === 'platform-admin') {
      if (!auth.platformAdmin || auth.tokenProjectId || (auth.roleCeiling && auth.roleCeiling !== 'admin')) {
        throw new WharfError('forbidden', 'This action needs a platform admin token without project scope or role ceiling');
      }
    }
    if (rule.kind === 'node-agent') {
      const admin = auth.platformAdmin && !auth.tokenProjectId && (!auth.roleCeiling || auth.roleCeiling === 'admin');
      const agent = auth.principalKind === 'node-agent' && !auth.tokenProjectId;
      if (!admin && !agent) {
        throw new WharfError('forbidden', 'This action needs a node-agent token (or a platform admin token) without project scope');
      }
    }
    if (rule.kind === 'project' || rule.kind === 'upload') {
      let projectName: string;
      if (rule.kind === 'project') {
        projectName = assertName('project', request.params.project, 'project');
      } else {
        const owner = await this.modules.get<UploadOwners>(UPLOAD_OWNERS, { strict: false }).projectNameOf(String(request.params.id));
        if (!owner) throw new WharfError('upload_not_found', `No upload "${request.params.id}"`);
        projectName = owner;
      }
      const project = await this.auth.projectAccess(auth, projectName);
      if (!project && rule.kind === 'upload') throw new WharfError('upload_not_found', `No upload "${request.params.id}"`);
      if (!project) throw new WharfError('project_not_found', `No project "${projectName}"`);
      if (!roleAtLeast(project.role, rule.role)) {
        throw new WharfError(
          'forbidden',
          `This action needs the ${rule.role} role in project "${projectName}"; the token has ${project.role}`,
        );
      }
      request.project = project;
    }
    return true;
  }
}
