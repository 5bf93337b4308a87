import type { CreatedTokenDto, CreateTokenDto, TokenDto } from '../auth/dto/token.dto';
import type { Page } from '../common/pagination/cursor';
import type { CreateModelDto, ModelDto, UpdateModelDto } from '../models/dto/model.dto';
import type { CreateProjectDto, MemberDto, ProjectDto, UpdateProjectDto } from '../projects/dto/project.dto';
import type { CreateVersionDto, UpdateVersionDto, VersionDto } from '../versions/dto/version.dto';
import type { HeartbeatDto, HeartbeatReplyDto, LocationListDto, NodeDto, NodeListDto } from '../nodes/dto/node.dto';
import type { CreateWarmupDto, WarmupDto, WarmupListDto } from '../warmups/dto/warmup.dto';
import type { Role } from '../auth/roles';
import type { AuditPageDto } from '../audit/dto/audit.dto';
import type { EndpointDto, EndpointPageDto, PutEndpointDto, RouteDecisionDto } from '../endpoints/dto/endpoint.dto';
import type {
  CreatedSubscriptionDto,
  CreateSubscriptionDto,
  DeliveryPageDto,
  SubscriptionDto,
  SubscriptionPageDto,
} from '../events/dto/subscription.dto';
import type { FileDto } from '../files/dto/file.dto';
import type { ProjectStorageDto } from '../files/dto/storage.dto';
import type { PutQuotaDto, QuotaDto } from '../projects/dto/quota.dto';
import type { ResolvedVersionDto } from '../references/dto/resolve.dto';
import type { TagDto, TagHistoryPageDto, TagTargetDto } from '../tags/dto/tag.dto';
import type { UploadDto, UploadPartDto } from '../uploads/dto/upload.dto';
import type { Download, ListOptions, Manifest } from './client-types';
import { HttpClient, HttpClientOptions } from './http-client';

export type { Download, ListOptions, Manifest, ManifestFile } from './client-types';

const segment = encodeURIComponent;

/** A file path inside a version, each segment encoded (the slashes stay). */
const filePath = (path: string) => path.split('/').map(segment).join('/');

/**
 * The typed client of the registry API, shared by the CLI, the node agent, the operator and the
 * tests. Errors are WharfApiError (with the problem's stable `code`) or WharfUnavailableError.
 */
export class WharfClient {
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
    const base = options.pathToken ? `/api/v1/scheduler/t/${encodeURIComponent(options.pathToken)}` : '/api/v1/scheduler';
    return this.http.json('POST', `${base}/filter`, { body: args, idempotent: true });
  }
  schedulerPrioritize(args: Record<string, unknown>, options: { pathToken?: string } = {}): Promise<{ Host: string; Score: number }[]> {
    const base = options.pathToken ? `/api/v1/scheduler/t/${encodeURIComponent(options.pathToken)}` : '/api/v1/scheduler';
    return this.http.json('POST', `${base}/prioritize`, { body: args, idempotent: true });
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

  // Models
  private modelPath(project: string, model?: string): string {
    return `/api/v1/projects/${segment(project)}/models${model === undefined ? '' : `/${segment(model)}`}`;
  }
  createModel(project: string, body: CreateModelDto): Promise<ModelDto> {
    return this.http.json('POST', this.modelPath(project), { body });
  }
  listModels(project: string, options: ListOptions = {}): Promise<Page<ModelDto>> {
    return this.http.json('GET', this.modelPath(project), { query: { ...options } });
  }
  getModel(project: string, model: string): Promise<ModelDto> {
    return this.http.json('GET', this.modelPath(project, model));
  }
  updateModel(project: string, model: string, body: UpdateModelDto): Promise<ModelDto> {
    return this.http.json('PATCH', this.modelPath(project, model), { body });
  }
  deleteModel(project: string, model: string): Promise<void> {
    return this.http.json('DELETE', this.modelPath(project, model));
  }

  // Tags and references
  private tagPath(project: string, model: string, tag?: string): string {
    return `${this.modelPath(project, model)}/tags${tag === undefined ? '' : `/${segment(tag)}`}`;
  }
  listTags(project: string, model: string, options: { cursor?: string; limit?: number } = {}): Promise<Page<TagDto>> {
    return this.http.json('GET', this.tagPath(project, model), { query: { ...options } });
  }
  getTag(project: string, model: string, tag: string): Promise<TagDto> {
    return this.http.json('GET', this.tagPath(project, model, tag));
  }
  /** Moves (or creates) a tag; `target` is a version number or a reference such as `@sha256:…`. */
  moveTag(project: string, model: string, tag: string, target: TagTargetDto): Promise<TagDto> {
    return this.http.json('PUT', this.tagPath(project, model, tag), { body: target });
  }
  deleteTag(project: string, model: string, tag: string, reason?: string): Promise<void> {
    return this.http.json('DELETE', this.tagPath(project, model, tag), { query: { reason } });
  }
  pinTag(project: string, model: string, tag: string, target: TagTargetDto = {}): Promise<TagDto> {
    return this.http.json('POST', `${this.tagPath(project, model, tag)}/pin`, { body: target, idempotent: true });
  }
  unpinTag(project: string, model: string, tag: string, reason?: string): Promise<TagDto> {
    return this.http.json('POST', `${this.tagPath(project, model, tag)}/unpin`, { body: { reason }, idempotent: true });
  }
  rollbackTag(project: string, model: string, tag: string, reason?: string): Promise<TagDto> {
    return this.http.json('POST', `${this.tagPath(project, model, tag)}/rollback`, { body: { reason } });
  }
  tagHistory(project: string, model: string, tag: string, options: { before?: number; limit?: number } = {}): Promise<TagHistoryPageDto> {
    return this.http.json('GET', `${this.tagPath(project, model, tag)}/history`, { query: { ...options } });
  }
  /** The concrete version a reference names: `project/model:tag`, `@3`, `@sha256:…`. */
  resolve(project: string, model: string, ref: string): Promise<ResolvedVersionDto> {
    return this.http.json('GET', `${this.modelPath(project, model)}/resolve`, { query: { ref } });
  }

  // Endpoints
  private endpointPath(project: string, endpoint?: string): string {
    return `/api/v1/projects/${segment(project)}/endpoints${endpoint === undefined ? '' : `/${segment(endpoint)}`}`;
  }
  putEndpoint(project: string, endpoint: string, body: PutEndpointDto): Promise<EndpointDto> {
    return this.http.json('PUT', this.endpointPath(project, endpoint), { body });
  }
  getEndpoint(project: string, endpoint: string): Promise<EndpointDto> {
    return this.http.json('GET', this.endpointPath(project, endpoint));
  }
  deleteEndpoint(project: string, endpoint: string): Promise<void> {
    return this.http.json('DELETE', this.endpointPath(project, endpoint));
  }
  listEndpoints(project: string, options: { prefix?: string; cursor?: string; limit?: number } = {}): Promise<EndpointPageDto> {
    return this.http.json('GET', this.endpointPath(project), { query: { ...options } });
  }
  route(project: string, endpoint: string, key?: string): Promise<RouteDecisionDto> {
    return this.http.json('GET', `${this.endpointPath(project, endpoint)}/route`, { query: { key } });
  }

  /** Small files in one multipart/form-data request (large ones belong in upload sessions). */
  uploadFiles(project: string, model: string, version: number, files: { path: string; data: Uint8Array }[]): Promise<FileDto[]> {
    const form = new FormData();
    for (const file of files) form.append('file', new Blob([file.data]), file.path);
    return this.http.json('POST', `${this.versionPath(project, model, version)}/files`, { form });
  }

  // Upload sessions
  /** Opens (or finds again) the upload of one file of a draft; may answer it already complete (dedupe). */
  createUpload(project: string, model: string, version: number, body: { path: string; size: number; sha256: string }): Promise<UploadDto> {
    return this.http.json('POST', `${this.versionPath(project, model, version)}/uploads`, { body, idempotent: true });
  }
  getUpload(id: string): Promise<UploadDto> {
    return this.http.json('GET', `/api/v1/uploads/${segment(id)}`);
  }
  /**
   * Sends one part; with `sha256` the server checks it while the part streams and keeps nothing
   * that fails it. Safe to repeat: a part sent again replaces it.
   */
  putPart(id: string, number: number, body: Uint8Array, sha256?: string, signal?: AbortSignal): Promise<UploadPartDto> {
    return this.http.sendBytes('PUT', `/api/v1/uploads/${segment(id)}/parts/${number}`, body, {
      headers: { 'Content-Type': 'application/octet-stream', ...(sha256 ? { 'X-Part-Sha256': sha256 } : {}) },
      signal,
    });
  }
  completeUpload(id: string): Promise<UploadDto> {
    return this.http.json('POST', `/api/v1/uploads/${segment(id)}/complete`, { idempotent: true });
  }
  abortUpload(id: string): Promise<void> {
    return this.http.json('DELETE', `/api/v1/uploads/${segment(id)}`);
  }

  // Versions
  versionPath(project: string, model: string, version?: number | string): string {
    return `${this.modelPath(project, model)}/versions${version === undefined ? '' : `/${segment(String(version))}`}`;
  }
  createVersion(project: string, model: string, body: CreateVersionDto = {}): Promise<VersionDto> {
    return this.http.json('POST', this.versionPath(project, model), { body });
  }
  listVersions(project: string, model: string, options: { state?: string; sort?: string; cursor?: string; limit?: number } = {}): Promise<Page<VersionDto>> {
    return this.http.json('GET', this.versionPath(project, model), { query: { ...options } });
  }
  getVersion(project: string, model: string, version: number): Promise<VersionDto> {
    return this.http.json('GET', this.versionPath(project, model, version));
  }
  updateVersion(project: string, model: string, version: number, body: UpdateVersionDto): Promise<VersionDto> {
    return this.http.json('PATCH', this.versionPath(project, model, version), { body });
  }
  /** Safe to repeat: committing a ready version answers it unchanged. */
  commitVersion(project: string, model: string, version: number): Promise<VersionDto> {
    return this.http.json('POST', `${this.versionPath(project, model, version)}/commit`, { idempotent: true });
  }
  deleteVersion(project: string, model: string, version: number): Promise<void> {
    return this.http.json('DELETE', this.versionPath(project, model, version));
  }

  // Files
  /** The manifest of a version (`ref`: number, tag or digest). */
  manifest(project: string, model: string, ref: number | string): Promise<Manifest> {
    return this.http.json('GET', `${this.versionPath(project, model, ref)}/files`);
  }
  /** A file's size and sha256 without its bytes (HEAD). */
  async statFile(project: string, model: string, ref: number | string, path: string): Promise<{ size: number; sha256: string | null }> {
    const response = await this.http.send('HEAD', `${this.versionPath(project, model, ref)}/files/${filePath(path)}`);
    return { size: Number(response.headers.get('content-length')), sha256: response.headers.get('etag')?.replace(/^(W\/)?"|"$/g, '') ?? null };
  }
  /**
   * Streams a file, or the byte range `[start, end]` (inclusive) of it. Retries happen before
   * the first byte only; a body cut short is the caller's to resume with a range.
   */
  async download(project: string, model: string, ref: number | string, path: string, options: { start?: number; end?: number; signal?: AbortSignal } = {}): Promise<Download> {
    const ranged = options.start !== undefined || options.end !== undefined;
    const headers: Record<string, string> = ranged ? { Range: `bytes=${options.start ?? 0}-${options.end ?? ''}` } : {};
    const response = await this.http.stream(`${this.versionPath(project, model, ref)}/files/${filePath(path)}`, { headers, signal: options.signal });
    const header = (name: string) => {
      const value = response.headers[name];
      return typeof value === 'string' ? value : null;
    };
    const length = header('content-length');
    return {
      status: response.status,
      etag: header('etag')?.replace(/^(W\/)?"|"$/g, '') ?? null,
      contentLength: length === null ? null : Number(length),
      contentRange: header('content-range'),
      body: response.body,
    };
  }

  // Nodes, warm-ups, locations
  /** A node agent's heartbeat; the caller runs its own backoff loop. */
  heartbeat(node: string, body: HeartbeatDto, signal?: AbortSignal): Promise<HeartbeatReplyDto> {
    return this.http.json('PUT', `/api/v1/nodes/${segment(node)}`, { body, signal });
  }
  listNodes(options: { label?: string[]; ready?: boolean } = {}): Promise<NodeListDto> {
    return this.http.json('GET', '/api/v1/nodes', { query: { label: options.label, ready: options.ready === undefined ? undefined : String(options.ready) } });
  }
  getNode(node: string): Promise<NodeDto> {
    return this.http.json('GET', `/api/v1/nodes/${segment(node)}`);
  }
  /** Forgets a node (platform admins); its agent registers it again with its next heartbeat. */
  deleteNode(node: string): Promise<void> {
    return this.http.json('DELETE', `/api/v1/nodes/${segment(node)}`);
  }
  createWarmup(project: string, body: CreateWarmupDto): Promise<WarmupDto> {
    return this.http.json('POST', `/api/v1/projects/${segment(project)}/warmups`, { body });
  }
  listWarmups(project: string): Promise<WarmupListDto> {
    return this.http.json('GET', `/api/v1/projects/${segment(project)}/warmups`);
  }
  getWarmup(project: string, id: string): Promise<WarmupDto> {
    return this.http.json('GET', `/api/v1/projects/${segment(project)}/warmups/${segment(id)}`);
  }
  deleteWarmup(project: string, id: string): Promise<void> {
    return this.http.json('DELETE', `/api/v1/projects/${segment(project)}/warmups/${segment(id)}`);
  }
  locations(project: string, model: string, version: number): Promise<LocationListDto> {
    return this.http.json('GET', `${this.versionPath(project, model, version)}/locations`);
  }
}
