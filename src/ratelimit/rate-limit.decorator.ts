import { SetMetadata } from '@nestjs/common';

/**
 * Route classes with their own budgets (RATE_LIMIT_<CLASS>). Without a decorator a route is
 * `read` for GET/HEAD/OPTIONS and `write` otherwise, `public` when it is @Public().
 * `none` is never limited (health and metrics probes).
 */
export const RATE_LIMIT_CLASSES = ['read', 'write', 'upload', 'public', 'none'] as const;
export type RateLimitClassName = (typeof RATE_LIMIT_CLASSES)[number];

export const RATE_LIMIT_METADATA = 'wharf:rate-limit-class';

export const RateLimitClass = (name: RateLimitClassName) => SetMetadata(RATE_LIMIT_METADATA, name);
