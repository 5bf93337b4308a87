import type { CreatedTokenDto, CreateTokenDto, TokenDto } from '../auth/dto/token.dto';
import type { Page } from '../common/pagination/cursor';
import type { CreateModelDto, ModelDto, UpdateModelDto } from '../models/dto/model.dto';
import type { CreateProjectDto, MemberDto, ProjectDto, UpdateProjectDto } from '../projects/dto/project.dto';
import type { CreateVersionDto, UpdateVersionDto, VersionDto } from '../versions/dto/version.dto';
import type { Role } from '../auth/roles';
import { HttpClient, HttpClientOptions } from './http-client';

export interface ListOptions {
  limit?: number;
  cursor?: string;
  sort?: string;
  prefix?: string;
  label?: string[];
}

const segment = encodeURIComponent;

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
  listMembers(project: string): Promise<{ items: MemberDto[] }> {
    return this.http.json('GET', `/api/v1/projects/${segment(project)}/members`);
  }
  putMember(project: string, principal: string, role: Role): Promise<MemberDto> {
    return this.http.json('PUT', `/api/v1/projects/${segment(project)}/members/${segment(principal)}`, { body: { role } });
  }
  removeMember(project: string, principal: string): Promise<void> {
    return this.http.json('DELETE', `/api/v1/projects/${segment(project)}/members/${segment(principal)}`);
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
}
