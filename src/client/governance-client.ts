import type { AuditPageDto } from '../audit/dto/audit.dto';
import type { Role } from '../auth/roles';
import type { Page } from '../common/pagination/cursor';
import type {
  CreatedSubscriptionDto,
  CreateSubscriptionDto,
  DeliveryPageDto,
  SubscriptionDto,
  SubscriptionPageDto,
} from '../events/dto/subscription.dto';
import type { CreateProjectDto, MemberDto, ProjectDto, UpdateProjectDto } from '../projects/dto/project.dto';
import type { PutQuotaDto, QuotaDto } from '../quota/dto/quota.dto';
import type { ProjectStorageDto } from '../quota/dto/storage-usage.dto';
import type { CreatedTokenDto, CreateTokenDto, TokenDto } from '../tokens/dto/token.dto';
import type { ListOptions } from './client-types';
import { HttpClient, HttpClientOptions } from './http-client';

export const segment = encodeURIComponent;

/**
 * The part of the registry API that governs it: tokens, projects and their members and quotas,
 * audit, webhooks, TokenReview, garbage collection and health. WharfClient adds the models.
 */
export class GovernanceClient {
  readonly http: HttpClient;

  constructor(options: HttpClientOptions) {
    this.http = new HttpClient(options);
  }

  /** Every item of every page, fetched one page after another. */
  async listAll<T>(list: (cursor?: string) => Promise<Page<T>>): Promise<T[]> {
    const items: T[] = [];
    for await (const item of this.all(list)) items.push(item);
    return items;
  }

  /** Every page of a list, fetched one after another. */
  async *all<T>(list: (cursor?: string) => Promise<Page<T>>): AsyncGenerator<T> {
    let cursor: string | undefined;
    do {
      const page = await list(cursor);
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  // Tokens
  createToken(body: CreateTokenDto): Promise<CreatedTokenDto> {
    return this.http.json('POST', '/api/v1/tokens', { body });
  }
  listTokens(options: { principal?: string; all?: boolean; cursor?: string; limit?: number } = {}): Promise<Page<TokenDto>> {
    return this.http.json('GET', '/api/v1/tokens', { query: { ...options, all: options.all ? 'true' : undefined } });
  }
  getToken(id: string): Promise<TokenDto> {
    return this.http.json('GET', `/api/v1/tokens/${segment(id)}`);
  }
  revokeToken(id: string): Promise<void> {
    return this.http.json('DELETE', `/api/v1/tokens/${segment(id)}`);
  }

  // Projects and members
  createProject(body: CreateProjectDto): Promise<ProjectDto> {
    return this.http.json('POST', '/api/v1/projects', { body });
  }
  listProjects(options: ListOptions = {}): Promise<Page<ProjectDto>> {
    return this.http.json('GET', '/api/v1/projects', { query: { ...options } });
  }
  getProject(project: string): Promise<ProjectDto> {
    return this.http.json('GET', `/api/v1/projects/${segment(project)}`);
  }
  updateProject(project: string, body: UpdateProjectDto): Promise<ProjectDto> {
    return this.http.json('PATCH', `/api/v1/projects/${segment(project)}`, { body });
  }
  deleteProject(project: string): Promise<void> {
    return this.http.json('DELETE', `/api/v1/projects/${segment(project)}`);
  }
  getMember(project: string, principal: string): Promise<MemberDto> {
    return this.http.json('GET', `/api/v1/projects/${segment(project)}/members/${segment(principal)}`);
  }
  listMembers(project: string): Promise<{ items: MemberDto[] }> {
    return this.http.json('GET', `/api/v1/projects/${segment(project)}/members`);
  }
  putMember(project: string, principal: string, role: Role): Promise<MemberDto> {
    return this.http.json('PUT', `/api/v1/projects/${segment(project)}/members/${segment(principal)}`, { body: { role } });
  }
  removeMember(project: string, principal: string): Promise<void> {
    return this.http.json('DELETE', `/api/v1/projects/${segment(project)}/members/${segment(principal)}`);
  }

  // Quotas and storage
  getQuota(project: string): Promise<QuotaDto> {
    return this.http.json('GET', `/api/v1/projects/${segment(project)}/quota`);
  }
  /** Replaces the whole quota (platform admins): storage, cpu, memory, gpu as Kubernetes quantities. */
  putQuota(project: string, body: PutQuotaDto): Promise<QuotaDto> {
    return this.http.json('PUT', `/api/v1/projects/${segment(project)}/quota`, { body });
  }
  storageUsage(project: string): Promise<ProjectStorageDto> {
    return this.http.json('GET', `/api/v1/projects/${segment(project)}/storage`);
  }

  // Audit, event webhooks, operations
  listAudit(query: { project?: string; actor?: string; action?: string; since?: string; until?: string; cursor?: string; limit?: number } = {}): Promise<AuditPageDto> {
    return this.http.json('GET', '/api/v1/audit', { query: { ...query } });
  }
  private subscriptionPath(project: string, id?: string): string {
    return `/api/v1/projects/${segment(project)}/subscriptions${id === undefined ? '' : `/${segment(id)}`}`;
  }
  createSubscription(project: string, body: CreateSubscriptionDto): Promise<CreatedSubscriptionDto> {
    return this.http.json('POST', this.subscriptionPath(project), { body });
  }
  listSubscriptions(project: string, options: { cursor?: string; limit?: number } = {}): Promise<SubscriptionPageDto> {
    return this.http.json('GET', this.subscriptionPath(project), { query: { ...options } });
  }
  getSubscription(project: string, id: string): Promise<SubscriptionDto> {
    return this.http.json('GET', this.subscriptionPath(project, id));
  }
  deleteSubscription(project: string, id: string): Promise<void> {
    return this.http.json('DELETE', this.subscriptionPath(project, id));
  }
  listDeliveries(project: string, id: string, options: { state?: 'pending' | 'delivered' | 'failed'; cursor?: string; limit?: number } = {}): Promise<DeliveryPageDto> {
    return this.http.json('GET', `${this.subscriptionPath(project, id)}/deliveries`, { query: { ...options } });
  }
  /** Kubernetes webhook token authentication, as kube-apiserver calls it. */
  tokenReview(review: { apiVersion: string; kind: 'TokenReview'; spec: { token: string; audiences?: string[] } }): Promise<Record<string, unknown>> {
    return this.http.json('POST', '/api/v1/authn/tokenreview', { body: review, idempotent: true });
  }
  /**
   * kube-scheduler's extender verbs (docs/scheduling.md), for tools and tests that speak for the
   * scheduler: the caller's token must be SCHEDULER_EXTENDER_TOKEN, sent as the bearer token or,
   * as kube-scheduler does, in the path (`pathToken`).
   */
  schedulerFilter(args: Record<string, unknown>, options: { pathToken?: string } = {}): Promise<Record<string, unknown>> {
    return this.http.json('POST', `${schedulerBase(options.pathToken)}/filter`, { body: args, idempotent: true });
  }
  schedulerPrioritize(args: Record<string, unknown>, options: { pathToken?: string } = {}): Promise<{ Host: string; Score: number }[]> {
    return this.http.json('POST', `${schedulerBase(options.pathToken)}/prioritize`, { body: args, idempotent: true });
  }
  /** Runs garbage collection now (platform admins) and answers what it removed. */
  runGc(): Promise<Record<string, number>> {
    return this.http.json('POST', '/api/v1/admin/gc', { idempotent: true });
  }
  health(): Promise<{ status: string }> {
    return this.http.json('GET', '/healthz');
  }
  ready(): Promise<{ status: string; database: string; storage: string }> {
    return this.http.json('GET', '/readyz');
  }
  async metrics(): Promise<string> {
    return (await this.http.send('GET', '/metrics')).text();
  }
}

function schedulerBase(pathToken?: string): string {
  return pathToken ? `/api/v1/scheduler/t/${encodeURIComponent(pathToken)}` : '/api/v1/scheduler';
}
