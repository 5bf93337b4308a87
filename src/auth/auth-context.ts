import type { Request } from 'express';
import type { PrincipalKind } from './principal.entity';
import { Role } from './roles';

/** Who is calling, established by the access guard from the bearer token. */
export interface AuthContext {
  principalId: string;
  principalName: string;
  platformAdmin: boolean;
  /** `node-agent` principals may call node routes and read (never write) every project. */
  principalKind: PrincipalKind;
  tokenId: string;
  /** The project the token is limited to, if any. */
  tokenProjectId: string | null;
  /** The highest role the token may use, if limited. */
  roleCeiling: Role | null;
}

/** The project named in the route and the caller's effective role in it. */
export interface ProjectContext {
  id: string;
  name: string;
  role: Role;
}

/** What a mutation records as its actor in the audit log. */
export interface Actor {
  principalId: string | null;
  principalName: string;
  requestId: string | null;
}

export interface WharfRequest extends Request {
  auth?: AuthContext;
  project?: ProjectContext;
}

export function actorOf(request: WharfRequest): Actor {
  return {
    principalId: request.auth?.principalId ?? null,
    principalName: request.auth?.principalName ?? 'anonymous',
    requestId: (request as { id?: unknown }).id != null ? String((request as { id?: unknown }).id) : null,
  };
}

export const SYSTEM_ACTOR: Actor = { principalId: null, principalName: 'system', requestId: null };
