import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import { ApiPathParams } from '../common/http/api-path-params';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { actorOf, Actor, AuthContext, ProjectContext, WharfRequest } from './auth-context';
import { Role } from './roles';

export const ACCESS_METADATA = 'wharf:access';

/**
 * The access decision of a route. Every route carries exactly one; a route-table test fails
 * the build when one is missing.
 */
export type AccessRule =
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'platform-admin' }
  | { kind: 'node-agent' }
  | { kind: 'project'; role: Role }
  | { kind: 'upload'; role: Role };

/** Anyone may call this route, without a token. */
export const Public = () => applyDecorators(SetMetadata(ACCESS_METADATA, { kind: 'public' } satisfies AccessRule), ApiSecurity({}));

/** Any valid token. */
export const Authenticated = () =>
  applyDecorators(
    SetMetadata(ACCESS_METADATA, { kind: 'authenticated' } satisfies AccessRule),
    ApiBearerAuth(),
    ApiProblems('rate_limited', 'unauthenticated', 'token_invalid', 'token_expired', 'token_revoked'),
  );

/** A token of a platform admin, not limited to a project, without a role ceiling below admin. */
export const PlatformAdmin = () =>
  applyDecorators(
    SetMetadata(ACCESS_METADATA, { kind: 'platform-admin' } satisfies AccessRule),
    ApiBearerAuth(),
    ApiProblems('rate_limited', 'unauthenticated', 'token_invalid', 'token_expired', 'token_revoked', 'forbidden'),
  );

/**
 * A node agent's token (a principal of kind `node-agent`, made by a platform admin) or an
 * unrestricted platform admin token. Project-scoped tokens never qualify: an agent serves
 * every project on its node.
 */
export const NodeAgent = () =>
  applyDecorators(
    SetMetadata(ACCESS_METADATA, { kind: 'node-agent' } satisfies AccessRule),
    ApiBearerAuth(),
    ApiProblems('rate_limited', 'unauthenticated', 'token_invalid', 'token_expired', 'token_revoked', 'forbidden'),
  );

/**
 * At least `role` in the project named by the `:project` path parameter. A caller with no role
 * there gets 404, as if the project did not exist, so projects cannot be probed.
 */
export const ProjectAccess = (role: Role) =>
  applyDecorators(
    SetMetadata(ACCESS_METADATA, { kind: 'project', role } satisfies AccessRule),
    // The guard reads `:project`, so the route declares it even where the handler does not.
    ApiPathParams('project'),
    ApiBearerAuth(),
    ApiProblems('rate_limited', 'unauthenticated', 'token_invalid', 'token_expired', 'token_revoked', 'forbidden', 'project_not_found'),
  );

/**
 * At least `role` in the project that owns the upload named by the `:id` path parameter
 * (upload routes carry no project in their path). Callers with no role there, and unknown
 * ids, get 404 `upload_not_found` alike.
 */
export const UploadAccess = (role: Role) =>
  applyDecorators(
    SetMetadata(ACCESS_METADATA, { kind: 'upload', role } satisfies AccessRule),
    ApiBearerAuth(),
    ApiProblems('rate_limited', 'unauthenticated', 'token_invalid', 'token_expired', 'token_revoked', 'forbidden', 'upload_not_found'),
  );

export const CurrentAuth = createParamDecorator((_: unknown, context: ExecutionContext): AuthContext => {
  const request = context.switchToHttp().getRequest<WharfRequest>();
  if (!request.auth) throw new Error('CurrentAuth used on a route without authentication');
  return request.auth;
});

export const CurrentProject = createParamDecorator((_: unknown, context: ExecutionContext): ProjectContext => {
  const request = context.switchToHttp().getRequest<WharfRequest>();
  if (!request.project) throw new Error('CurrentProject used on a route without ProjectAccess');
  return request.project;
});

export const CurrentActor = createParamDecorator(
  (_: unknown, context: ExecutionContext): Actor => actorOf(context.switchToHttp().getRequest<WharfRequest>()),
);
