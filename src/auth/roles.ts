export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { viewer: 1, editor: 2, admin: 3 };

export function roleAtLeast(role: Role | null | undefined, required: Role): boolean {
  return role != null && RANK[role] >= RANK[required];
}

/** The lower of two roles; a token's role ceiling caps its principal's role this way. */
export function lowerRole(a: Role, b: Role | null | undefined): Role {
  if (b == null) return a;
  return RANK[a] <= RANK[b] ? a : b;
}
