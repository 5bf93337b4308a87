import { SetMetadata } from '@nestjs/common';

/**
 * Route classes with their own budgets (RATE_LIMIT_<CLASS>). Without a decorator a route is
 * `read` for GET/HEAD/OPTIONS and `write` otherwise, `public` when it is @Public().
 * `agent` is node agents' heartbeats: a DaemonSet shares one token across every node, so its
 * budget must grow with the fleet, not with one user's habits. `download` is a file's bytes
 * (GET/HEAD of a file): a pull asks for them in ranges, 64 per GiB, and every node pulling a
 * large model with the same DaemonSet token would exhaust a `read` budget sized for people (as
 * a Docker registry counts manifest pulls, not layer GETs). `none` is never limited (health
 * and metrics probes).
 */
export const RATE_LIMIT_CLASSES = ['read', 'write', 'upload', 'download', 'agent', 'public', 'none'] as const;
export type RateLimitClassName = (typeof RATE_LIMIT_CLASSES)[number];

export const RATE_LIMIT_METADATA = 'wharf:rate-limit-class';

export const RateLimitClass = (name: RateLimitClassName) => SetMetadata(RATE_LIMIT_METADATA, name);
