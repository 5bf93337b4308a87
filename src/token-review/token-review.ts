import { z } from 'zod';
import { Role } from '../auth/roles';

/** The two TokenReview versions kube-apiserver speaks (`--authentication-token-webhook-version`). */
export const TOKEN_REVIEW_VERSIONS = ['authentication.k8s.io/v1', 'authentication.k8s.io/v1beta1'] as const;
export type TokenReviewVersion = (typeof TOKEN_REVIEW_VERSIONS)[number];

/**
 * The request as kube-apiserver sends it: `metadata` and an empty `status` may come along and
 * are ignored; unknown fields are tolerated, as Kubernetes API readers do.
 */
export const tokenReviewRequest = z.object({
  apiVersion: z.enum(TOKEN_REVIEW_VERSIONS),
  kind: z.literal('TokenReview'),
  spec: z.object({
    token: z.string().min(1).max(4096),
    audiences: z.array(z.string().min(1).max(1024)).max(32).optional(),
  }),
});
export type TokenReviewRequest = z.infer<typeof tokenReviewRequest>;

export interface TokenReviewUser {
  username: string;
  uid: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface TokenReviewResponse {
  apiVersion: TokenReviewVersion;
  kind: 'TokenReview';
  status:
    | { authenticated: true; user: TokenReviewUser; audiences?: string[] }
    | { authenticated: false; error: string };
}

/** The Kubernetes user name of a Wharf principal. */
export const kubernetesUsername = (principal: string) => `wharf:${principal}`;

/** The group a token's effective role in a project maps to; RoleBindings in deploy/rbac name it. */
export const projectGroup = (project: string, role: Role) => `wharf:project:${project}:${role}`;

/** Unrestricted platform admins carry this group (bind it cluster-wide if you want). */
export const PLATFORM_ADMIN_GROUP = 'wharf:platform-admin';

/** `extra` key carrying the Wharf token id, visible in Kubernetes audit logs. */
export const TOKEN_ID_EXTRA = 'wharf.dev/token-id';
