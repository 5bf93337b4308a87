/**
 * The stable problem codes of the API. A code never changes meaning once released; clients
 * branch on `code`, people read `title` and `detail`. Each maps to one HTTP status.
 */
export const ERROR_CODES = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  invalid_name: { status: 400, title: 'A name in the request is not valid' },
  invalid_cursor: { status: 400, title: 'The pagination cursor is not valid' },
  metadata_too_large: { status: 413, title: 'The metadata is larger than allowed' },
  payload_too_large: { status: 413, title: 'The request body is larger than allowed' },
  unauthenticated: { status: 401, title: 'Authentication is required' },
  token_invalid: { status: 401, title: 'The token is not valid' },
  token_expired: { status: 401, title: 'The token has expired' },
  token_revoked: { status: 401, title: 'The token has been revoked' },
  forbidden: { status: 403, title: 'The token does not allow this action' },
  not_found: { status: 404, title: 'No such resource' },
  route_not_found: { status: 404, title: 'No such route' },
  project_not_found: { status: 404, title: 'Project not found' },
  principal_not_found: { status: 404, title: 'Principal not found' },
  member_not_found: { status: 404, title: 'Member not found' },
  token_not_found: { status: 404, title: 'Token not found' },
  model_not_found: { status: 404, title: 'Model not found' },
  version_not_found: { status: 404, title: 'Version not found' },
  node_not_found: { status: 404, title: 'Node not found' },
  warmup_not_found: { status: 404, title: 'Warm-up not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  project_exists: { status: 409, title: 'A project with this name already exists' },
  model_exists: { status: 409, title: 'A model with this name already exists' },
  project_not_empty: { status: 409, title: 'The project still holds models' },
  last_admin: { status: 409, title: 'A project must keep at least one admin' },
  version_immutable: { status: 409, title: 'The version is committed and cannot change' },
  version_state_conflict: { status: 409, title: 'The version is not in a state that allows this' },
  invalid_reference: { status: 400, title: 'The reference is not valid' },
  tag_not_found: { status: 404, title: 'Tag not found' },
  endpoint_not_found: { status: 404, title: 'Endpoint not found' },
  tag_pinned: { status: 409, title: 'The tag is pinned and refuses moves until unpinned' },
  tag_automatic: { status: 409, title: 'The tag is maintained automatically' },
  tag_in_use: { status: 409, title: 'An endpoint routes to this tag' },
  version_in_use: { status: 409, title: 'A tag or an endpoint references this version' },
  model_in_use: { status: 409, title: 'An endpoint routes to this model' },
  version_not_ready: { status: 409, title: 'The version is not ready' },
  no_rollback_target: { status: 409, title: 'The tag has no earlier version to roll back to' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  internal_error: { status: 500, title: 'Internal error' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The `type` URI of a problem document (RFC 9457 §3.1.1). */
export function problemType(code: ErrorCode): string {
  return `urn:wharf:problem:${code}`;
}
