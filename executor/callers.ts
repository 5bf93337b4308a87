import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LRUCache } from 'lru-cache';
import { ExecutorError } from './problems';

/** Who is calling: the registry principal behind the token, or an address when anonymous. */
export interface Caller {
  /** The rate-limit key and the name in access logs: `wharf:alice`, `anonymous:10.0.0.7`. */
  client: string;
  anonymous: boolean;
}

type Review = { ok: true; username: string; groups: string[] } | { ok: false; reason: string };

export interface CallerCheckOptions {
  registryUrl?: string;
  reviewerToken?: string;
  /** A token must carry a role in this project (any role); unset: any valid token. */
  project?: string;
  cacheTtlMs: number;
  allowAnonymous: boolean;
  fetchTimeoutMs?: number;
}

const PLATFORM_ADMIN_GROUP = 'wharf:platform-admin';

/**
 * Checks callers' API tokens against the registry's TokenReview endpoint. Answers are cached for
 * a short time (TOKEN_CACHE_TTL, 1 s by default) keyed by the token's sha256, so a hot client
 * costs the registry one review per second while a revoked token stops working within that
 * second. Concurrent first requests with one token share one review. A registry that cannot
 * answer fails closed (503): an unchecked token is never let through.
 */
export class CallerCheck {
  private readonly reviews: LRUCache<string, Review>;
  private readonly pending = new Map<string, Promise<Review>>();

  constructor(private readonly options: CallerCheckOptions) {
    this.reviews = new LRUCache({ max: 50_000, ttl: Math.max(1, options.cacheTtlMs), ttlAutopurge: false });
  }

  async identify(request: IncomingMessage): Promise<Caller> {
    const header = request.headers.authorization;
    if (!header) {
      if (this.options.allowAnonymous) return { client: `anonymous:${request.socket.remoteAddress ?? 'unknown'}`, anonymous: true };
      throw new ExecutorError('unauthenticated', 'This deployment needs an API token: send Authorization: Bearer <token>', { 'www-authenticate': 'Bearer' });
    }
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (!token) throw new ExecutorError('unauthenticated', 'The Authorization header must be "Bearer <token>"', { 'www-authenticate': 'Bearer' });
    const review = await this.review(token);
    if (!review.ok) throw new ExecutorError('token_invalid', review.reason, { 'www-authenticate': 'Bearer error="invalid_token"' });
    const project = this.options.project;
    if (project && !review.groups.some((group) => group === PLATFORM_ADMIN_GROUP || group.startsWith(`wharf:project:${project}:`))) {
      throw new ExecutorError('forbidden', `The token has no role in project ${project}, which this deployment belongs to`);
    }
    return { client: review.username, anonymous: false };
  }

  private review(token: string): Promise<Review> {
    const key = createHash('sha256').update(token).digest('base64');
    const cached = this.reviews.get(key);
    if (cached) return Promise.resolve(cached);
    let inFlight = this.pending.get(key);
    if (!inFlight) {
      inFlight = this.askRegistry(token)
        .then((review) => {
          this.reviews.set(key, review);
          return review;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, inFlight);
    }
    return inFlight;
  }

  private async askRegistry(token: string): Promise<Review> {
    const { registryUrl, reviewerToken } = this.options;
    if (!registryUrl || !reviewerToken) return { ok: false, reason: 'Tokens cannot be checked: REGISTRY_URL is not configured' };
    let response: Response;
    try {
      response = await fetch(new URL('/api/v1/authn/tokenreview', registryUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${reviewerToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }),
        signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? 5000),
      });
    } catch (error) {
      throw new ExecutorError('registry_unavailable', `The registry did not answer the token check (${(error as Error).message})`, { 'retry-after': '1' });
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new ExecutorError('registry_unavailable', `The registry answered the token check with HTTP ${response.status}`, { 'retry-after': '1' });
    }
    const body = (await response.json()) as { status?: { authenticated?: boolean; error?: string; user?: { username?: string; groups?: string[] } } };
    const status = body.status;
    if (!status?.authenticated || !status.user?.username) return { ok: false, reason: status?.error ?? 'The token is not valid' };
    return { ok: true, username: status.user.username, groups: status.user.groups ?? [] };
  }
}
