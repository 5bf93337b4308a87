// What the operator asks the registry: resolve a reference to a concrete version (and its size),
// and manage its event subscription (tag moves reach the operator within a second or two).
import { TerminalError } from '../kube-runtime/errors';
import type { ModelReference } from './reference';
import { formatReference, selectorParam } from './reference';

export interface ResolvedVersion {
  project: string;
  model: string;
  number: number;
  digest: string;
  bytes: number;
  tag?: string;
}

/** The registry answered, but not with a version: the reason becomes the condition's reason. */
export class RegistryRefusal extends TerminalError {}

/** The registry could not be asked (down, 5xx, timeout): retried with backoff, pods untouched. */
export class RegistryUnavailable extends Error {
  readonly reason = 'RegistryUnavailable';
}

const camel = (code: string) => code.split('_').map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');

export class RegistryClient {
  /** Versions are immutable: their size never changes once known. */
  private readonly bytes = new Map<string, number>();
  /**
   * Resolutions: for ever for numbers and digests (immutable); for tags TAG_TTL_MS, so that the
   * reconciles of many ModelDeployments on one tag (and the ones their Deployments' status
   * changes cause) ask the registry once, while a registry event about the model drops its
   * entries at once (invalidate), keeping tag moves within seconds.
   */
  private readonly resolved = new Map<string, { value: ResolvedVersion; expires: number }>();

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 10_000,
    private readonly tagTtlMs = 5_000,
  ) {}

  /** A registry event about PROJECT/MODEL (or the whole project): forget what was resolved there. */
  invalidate(project: string, model?: string): void {
    const prefix = model ? `${project}/${model}` : `${project}/`;
    for (const key of this.resolved.keys()) if (key.startsWith(prefix) && (model === undefined || /^[:@]/.test(key.slice(prefix.length)))) this.resolved.delete(key);
  }

  async resolve(ref: ModelReference): Promise<ResolvedVersion> {
    const key = formatReference(ref);
    const cached = this.resolved.get(key);
    if (cached && cached.expires > Date.now()) return cached.value;
    const value = await this.fetchResolution(ref);
    this.resolved.set(key, { value, expires: ref.selector.kind === 'tag' ? Date.now() + this.tagTtlMs : Number.POSITIVE_INFINITY });
    return value;
  }

  private async fetchResolution(ref: ModelReference): Promise<ResolvedVersion> {
    const base = `/api/v1/projects/${ref.project}/models/${ref.model}`;
    const resolved = await this.call<{ number: number; manifestDigest: string | null; tag?: string }>(
      'GET', `${base}/resolve?ref=${encodeURIComponent(selectorParam(ref.selector))}`);
    const key = `${ref.project}/${ref.model}@${resolved.number}`;
    let bytes = this.bytes.get(key);
    if (bytes === undefined) {
      const files = await this.call<{ items: { size: number }[] }>('GET', `${base}/versions/${resolved.number}/files`);
      bytes = files.items.reduce((sum, file) => sum + Number(file.size), 0);
      this.bytes.set(key, bytes);
    }
    return { project: ref.project, model: ref.model, number: resolved.number, digest: resolved.manifestDigest ?? '', bytes, tag: resolved.tag };
  }

  /** Our subscriptions in PROJECT (by URL), so a restart replaces them instead of adding more. */
  async subscribe(project: string, url: string, secret: string): Promise<void> {
    const path = `/api/v1/projects/${project}/subscriptions`;
    const existing = await this.call<{ items: { id: string; url: string }[] }>('GET', `${path}?limit=100`);
    for (const subscription of existing.items.filter((item) => item.url === url)) {
      await this.call('DELETE', `${path}/${subscription.id}`);
    }
    await this.call('POST', path, {
      url,
      secret,
      events: ['tag.moved', 'tag.pinned', 'version.ready', 'endpoint.updated'],
      description: 'wharf-operator: re-resolve the ModelDeployments of this project',
    });
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new RegistryUnavailable(`the registry at ${this.baseUrl} is unreachable: ${(error as Error).cause ?? (error as Error).message}`);
    }
    const text = await response.text();
    if (response.ok) return (text ? JSON.parse(text) : undefined) as T;
    let problem: { code?: string; detail?: string } = {};
    try {
      problem = JSON.parse(text);
    } catch {
      // not a problem document
    }
    const detail = problem.detail ?? text.slice(0, 200);
    // 429 and 5xx pass; every other 4xx is an answer that a retry would only repeat.
    if (response.status === 429 || response.status >= 500) throw new RegistryUnavailable(`the registry answered ${method} ${path} with ${response.status}: ${detail}`);
    throw new RegistryRefusal(`the registry refused ${method} ${path}: ${response.status} ${problem.code ?? ''} ${detail}`.trim(), camel(problem.code ?? 'registry_refused'));
  }
}
