import type { CreateModelDto, ModelDto, UpdateModelDto } from '../models/dto/model.dto';
import type { CreateVersionDto, UpdateVersionDto, VersionDto } from '../versions/dto/version.dto';
import type { HeartbeatDto, HeartbeatReplyDto, LocationListDto, NodeDto, NodeListDto } from '../nodes/dto/node.dto';
import type { CreateWarmupDto, WarmupDto, WarmupListDto } from '../warmups/dto/warmup.dto';
import type { EndpointDto, EndpointPageDto, PutEndpointDto, RouteDecisionDto } from '../endpoints/dto/endpoint.dto';
import type { FileDto } from '../files/dto/file.dto';
import type { ResolvedVersionDto } from '../references/dto/resolve.dto';
import type { TagDto, TagHistoryPageDto, TagTargetDto } from '../tags/dto/tag.dto';
import type { UploadDto, UploadPartDto } from '../uploads/dto/upload.dto';
import type { Download, ListOptions, Manifest } from './client-types';
import { GovernanceClient, segment } from './governance-client';
import type { Page } from '../common/pagination/cursor';

export type { Download, ListOptions, Manifest, ManifestFile } from './client-types';

/** A file path inside a version, each segment encoded (the slashes stay). */
const filePath = (path: string) => path.split('/').map(segment).join('/');

/**
 * The typed client of the registry API, shared by the CLI, the node agent, the operator and the
 * tests. Errors are WharfApiError (with the problem's stable `code`) or WharfUnavailableError.
 */
export class WharfClient extends GovernanceClient {
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
  /** One page of nodes by name; pass the answer's nextCursor as `cursor` for the next. */
  listNodes(options: { label?: string[]; ready?: boolean; limit?: number; cursor?: string } = {}): Promise<NodeListDto> {
    return this.http.json('GET', '/api/v1/nodes', {
      query: {
        label: options.label,
        ready: options.ready === undefined ? undefined : String(options.ready),
        limit: options.limit === undefined ? undefined : String(options.limit),
        cursor: options.cursor,
      },
    });
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
