import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { roleAtLeast } from '../auth/roles';
import { WharfError } from '../common/errors/wharf-error';
import { parseVersionNumber } from '../common/validation/reference';
import { uploadRepository } from '../uploads/upload.repository';
import { EventsService } from '../events/events.service';
import { Page, paginate } from '../common/pagination/cursor';
import { parseSort } from '../common/pagination/sort';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { InvalidationService } from '../invalidation/invalidation.service';
import { Model } from '../models/model.entity';
import { ModelsService } from '../models/models.service';
import { TagWriter } from '../tags/tag-writer';
import { CreateVersionDto, ListVersionsQuery, UpdateVersionDto, VersionDto } from './dto/version.dto';
import { manifestDigest } from './manifest';
import { ModelVersion } from './model-version.entity';
import { versionFileRepository } from './version-file.repository';
import { versionRepository } from './version.repository';

const VERSION_SORTS = {
  number: { column: 'version.number', cast: 'integer' },
  createdAt: { column: 'version.created_at', cast: 'timestamptz' },
};

/** Kept here too for the callers that know it from its first home. */
export { parseVersionNumber } from '../common/validation/reference';

export function versionDto(project: ProjectContext, model: Model, version: ModelVersion): VersionDto {
  return {
    project: project.name,
    model: model.name,
    number: version.number,
    state: version.state,
    description: version.description,
    metadata: version.metadata,
    manifestDigest: version.manifestDigest,
    createdBy: version.createdBy,
    createdAt: version.createdAt.toISOString(),
    committedAt: version.committedAt?.toISOString() ?? null,
  };
}

@Injectable()
export class VersionsService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ModelsService) private readonly models: ModelsService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
    @Inject(TagWriter) private readonly tags: TagWriter,
    @Inject(InvalidationService) private readonly invalidation: InvalidationService,
    @Inject(EventsService) private readonly events: EventsService,
  ) {}

  /**
   * Creates a draft with the model's next number. Taking the number is an UPDATE of the model
   * row, so concurrent creations queue on its lock; a failed insert rolls the counter back, so
   * numbers stay gapless.
   */
  async create(project: ProjectContext, actor: Actor, modelName: string, dto: CreateVersionDto): Promise<VersionDto> {
    const metadata = this.checkedMetadata(dto.metadata);
    return this.dataSource.transaction(async (manager) => {
      const model = await this.models.find(project, modelName, manager);
      const number = await this.models.takeNextVersionNumber(manager, model);
      const version = await manager.save(
        manager.create(ModelVersion, {
          modelId: model.id,
          number,
          state: 'draft',
          description: dto.description ?? '',
          metadata,
          createdBy: actor.principalName,
        }),
      );
      await this.audit.record(manager, actor, {
        action: 'version.create',
        target: `${project.name}/${model.name}@${number}`,
        project: project.name,
        details: { description: version.description },
      });
      return versionDto(project, model, version);
    });
  }

  async list(project: ProjectContext, modelName: string, query: ListVersionsQuery): Promise<Page<VersionDto>> {
    const model = await this.models.find(project, modelName);
    const order = parseSort(query.sort, VERSION_SORTS, '-number', 'version.id');
    const builder = this.dataSource
      .getRepository(ModelVersion)
      .createQueryBuilder('version')
      .where('version.model_id = :modelId', { modelId: model.id });
    if (query.state) builder.andWhere('version.state = :state', { state: query.state });
    else builder.andWhere(`version.state <> 'archived'`);
    const page = await paginate(builder, order, query.cursor, query.limit);
    return { items: page.items.map((version) => versionDto(project, model, version)), nextCursor: page.nextCursor };
  }

  async get(project: ProjectContext, modelName: string, rawNumber: string): Promise<VersionDto> {
    const model = await this.models.find(project, modelName);
    const version = await this.find(project, model, rawNumber);
    return versionDto(project, model, version);
  }

  /** Description and metadata change only while draft; state moves ready ⇄ archived, draft → failed. */
  async update(project: ProjectContext, actor: Actor, modelName: string, rawNumber: string, dto: UpdateVersionDto): Promise<VersionDto> {
    const metadata = dto.metadata === undefined ? undefined : this.checkedMetadata(dto.metadata);
    return this.dataSource.transaction(async (manager) => {
      const model = await this.models.find(project, modelName, manager);
      if (dto.state !== undefined) await this.tags.lockLatestFirst(manager, model);
      const version = await this.find(project, model, rawNumber, manager, true);
      const changes: Partial<ModelVersion> = {};
      if (dto.description !== undefined || metadata !== undefined) {
        if (version.state !== 'draft') {
          throw new WharfError('version_immutable', `Version ${version.number} is ${version.state}; only a draft's description and metadata can change`);
        }
        if (dto.description !== undefined) changes.description = dto.description;
        if (metadata !== undefined) changes.metadata = metadata;
      }
      if (dto.state !== undefined && dto.state !== version.state) {
        const allowed: Record<string, string> = { ready: 'archived', archived: 'ready', draft: 'failed' };
        if (allowed[version.state] !== dto.state) {
          throw new WharfError('version_state_conflict', `Version ${version.number} is ${version.state}; it cannot become ${dto.state}`);
        }
        changes.state = dto.state;
      }
      const ctx = { project, model, actor };
      if (changes.state === 'archived') await this.tags.assertVersionUnreferenced(manager, ctx, version.id, version.number);
      if (Object.keys(changes).length) await manager.update(ModelVersion, { id: version.id }, changes as object);
      if (changes.state) {
        if (changes.state !== 'failed') await this.tags.followLatest(manager, ctx, `version ${version.number} ${changes.state === 'ready' ? 'unarchived' : 'archived'}`);
        await this.invalidation.publish(manager, { kind: 'project', projectId: project.id });
      }
      await this.audit.record(manager, actor, {
        action: changes.state ? `version.${changes.state === 'ready' ? 'unarchive' : changes.state === 'archived' ? 'archive' : 'fail'}` : 'version.update',
        target: `${project.name}/${model.name}@${version.number}`,
        project: project.name,
        details: { ...changes, previousState: version.state },
      });
      return versionDto(project, model, await manager.findOneByOrFail(ModelVersion, { id: version.id }));
    });
  }

  /**
   * Makes a draft ready: its manifest digest is fixed and from then on it is immutable (the
   * schema's trigger refuses any later change). Committing a ready version again answers it
   * unchanged, so a client may retry a commit whose response it lost.
   */
  async commit(project: ProjectContext, actor: Actor, modelName: string, rawNumber: string): Promise<VersionDto> {
    return this.dataSource.transaction(async (manager) => {
      const model = await this.models.find(project, modelName, manager);
      await this.tags.lockLatestFirst(manager, model);
      const version = await this.find(project, model, rawNumber, manager, true);
      if (version.state === 'ready') return versionDto(project, model, version);
      if (version.state !== 'draft') {
        throw new WharfError('version_state_conflict', `Version ${version.number} is ${version.state}; only a draft can be committed`);
      }
      // Uploads that are still open or being verified hold the version back: it is ready only
      // when every file is complete. Upload completion locks the version row for share, so no
      // file can slip in between these reads and the state change.
      const pending = await uploadRepository.countLiveForVersion(manager, version.id);
      if (pending > 0) {
        throw new WharfError('uploads_pending', `Version ${version.number} has ${pending} upload(s) in progress; complete or abort them first`);
      }
      const files = await versionFileRepository.list(manager, version.id);
      if (files.length === 0) throw new WharfError('version_empty', `Version ${version.number} has no files; upload at least one before committing`);
      const digest = manifestDigest(files);
      await versionRepository.markReady(manager, version.id, digest);
      await this.tags.followLatest(manager, { project, model, actor }, `version ${version.number} committed`);
      await this.invalidation.publish(manager, { kind: 'project', projectId: project.id });
      await this.audit.record(manager, actor, {
        action: 'version.commit',
        target: `${project.name}/${model.name}@${version.number}`,
        project: project.name,
        details: { manifestDigest: digest, files: files.length },
      });
      await this.events.emit(manager, {
        type: 'version.ready',
        project,
        actor: actor.principalName,
        data: { model: model.name, version: version.number, reference: `${project.name}/${model.name}@${version.number}`, manifestDigest: digest },
      });
      return versionDto(project, model, await manager.findOneByOrFail(ModelVersion, { id: version.id }));
    });
  }

  /** Editors may delete drafts and failed versions; committed ones need an admin. */
  async remove(project: ProjectContext, actor: Actor, modelName: string, rawNumber: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const model = await this.models.find(project, modelName, manager);
      await this.tags.lockLatestFirst(manager, model);
      const version = await this.find(project, model, rawNumber, manager, true);
      const committed = version.state === 'ready' || version.state === 'archived';
      if (committed && !roleAtLeast(project.role, 'admin')) {
        throw new WharfError('forbidden', `Deleting a ${version.state} version needs the admin role in project "${project.name}"`);
      }
      if (committed) {
        const ctx = { project, model, actor };
        await this.tags.assertVersionUnreferenced(manager, ctx, version.id, version.number);
        await this.tags.followLatest(manager, ctx, `version ${version.number} deleted`, version.id);
      }
      await manager.delete(ModelVersion, { id: version.id });
      await this.invalidation.publish(manager, { kind: 'project', projectId: project.id });
      await this.audit.record(manager, actor, {
        action: 'version.delete',
        target: `${project.name}/${model.name}@${version.number}`,
        project: project.name,
        details: { state: version.state, manifestDigest: version.manifestDigest },
      });
    });
  }

  private find(project: ProjectContext, model: Model, rawNumber: string, manager: EntityManager = this.dataSource.manager, forUpdate = false): Promise<ModelVersion> {
    return versionRepository.findEntity(manager, project.name, model, parseVersionNumber(rawNumber), forUpdate);
  }

  private checkedMetadata(metadata: Record<string, unknown> | undefined): Record<string, unknown> {
    if (metadata === undefined) return {};
    const bytes = Buffer.byteLength(JSON.stringify(metadata));
    if (bytes > this.config.MAX_METADATA_BYTES) {
      throw new WharfError('metadata_too_large', `metadata is ${bytes} bytes; at most ${this.config.MAX_METADATA_BYTES} are allowed`, {
        errors: [{ field: 'metadata', message: `at most ${this.config.MAX_METADATA_BYTES} bytes when serialised` }],
      });
    }
    return metadata;
  }
}
