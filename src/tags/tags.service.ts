import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Actor, ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { DEFAULT_PAGE_SIZE, paginate } from '../common/pagination/cursor';
import { assertName } from '../common/validation/names';
import { Model } from '../models/model.entity';
import { ModelsService } from '../models/models.service';
import { completeReference, parseReference } from '../common/validation/reference';
import { assertReady, versionRepository, VersionRow } from '../versions/version.repository';
import { ListTagsQuery, ReasonDto, TagDto, TagHistoryPageDto, TagHistoryQuery, TagPageDto, TagTargetDto } from './dto/tag.dto';
import { Tag, TagHistoryEntry } from './tag.entity';
import { LATEST, TagContext, TagRow, TagWriter } from './tag-writer';

interface TagViewRow {
  name: string;
  number: number;
  manifest_digest: string | null;
  pinned: boolean;
  pinned_by: string | null;
  pinned_at: Date | null;
  updated_by: string;
  created_at: Date;
  updated_at: Date;
}

const TAG_VIEW = `SELECT t.name, v.number, v.manifest_digest, t.pinned, t.pinned_by, t.pinned_at, t.updated_by, t.created_at, t.updated_at
                    FROM tags t JOIN model_versions v ON v.id = t.version_id`;

function tagDto(project: ProjectContext, model: Model, row: TagViewRow): TagDto {
  return {
    project: project.name,
    model: model.name,
    name: row.name,
    reference: `${project.name}/${model.name}:${row.name}`,
    version: row.number,
    manifestDigest: row.manifest_digest,
    pinned: row.pinned,
    pinnedBy: row.pinned_by,
    pinnedAt: row.pinned_at?.toISOString() ?? null,
    automatic: row.name === LATEST && !row.pinned,
    updatedBy: row.updated_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The tag's current version, as the writer wants a move target. */
function currentVersion(tag: TagRow): VersionRow {
  return { id: tag.version_id, number: tag.version_number, state: 'ready', manifest_digest: null };
}

@Injectable()
export class TagsService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ModelsService) private readonly models: ModelsService,
    @Inject(TagWriter) private readonly writer: TagWriter,
  ) {}

  async list(project: ProjectContext, modelName: string, query: ListTagsQuery): Promise<TagPageDto> {
    const model = await this.models.find(project, modelName);
    const builder = this.dataSource.getRepository(Tag).createQueryBuilder('tag').where('tag.model_id = :modelId', { modelId: model.id });
    const page = await paginate(
      builder,
      { sort: 'name', column: 'tag.name', idColumn: 'tag.id', cast: 'text', descending: false },
      query.cursor,
      query.limit ?? DEFAULT_PAGE_SIZE,
    );
    const ids = page.items.map((tag) => tag.id);
    const rows: TagViewRow[] = ids.length ? await this.dataSource.query(`${TAG_VIEW} WHERE t.id = ANY($1) ORDER BY t.name`, [ids]) : [];
    return { items: rows.map((row) => tagDto(project, model, row)), nextCursor: page.nextCursor };
  }

  async get(project: ProjectContext, modelName: string, name: string): Promise<TagDto> {
    const model = await this.models.find(project, modelName);
    return this.view(this.dataSource.manager, project, model, assertName('tag', name));
  }

  /** Moves (or creates) a tag. `latest` moves by itself; a pinned tag refuses. */
  async put(project: ProjectContext, actor: Actor, modelName: string, rawName: string, dto: TagTargetDto): Promise<TagDto> {
    const name = assertName('tag', rawName);
    if (name === LATEST) {
      throw new WharfError('tag_automatic', `"${LATEST}" follows the newest ready version by itself; pin it to hold it at a version`);
    }
    return this.dataSource.transaction(async (manager) => {
      const ctx = await this.context(manager, project, actor, modelName);
      const existing = await this.lockBeforeTarget(manager, ctx, name, dto);
      const target = await this.target(manager, ctx, dto);
      const { tag, created } = existing.tag ? existing : await this.writer.lock(manager, ctx, name, target);
      if (tag!.pinned) throw this.pinned(ctx, name, tag!);
      await this.writer.change(manager, ctx, name, tag, { action: 'move', reason: dto.reason ?? '', to: target }, created);
      return this.view(manager, project, ctx.model, name);
    });
  }

  async remove(project: ProjectContext, actor: Actor, modelName: string, rawName: string, dto: ReasonDto): Promise<void> {
    const name = assertName('tag', rawName);
    if (name === LATEST) {
      throw new WharfError('tag_automatic', `"${LATEST}" follows the newest ready version by itself and cannot be deleted`);
    }
    await this.dataSource.transaction(async (manager) => {
      const ctx = await this.context(manager, project, actor, modelName);
      const tag = await this.locked(manager, ctx, name);
      if (tag.pinned) throw this.pinned(ctx, name, tag);
      await this.writer.assertTagUnrouted(manager, ctx, name);
      await this.writer.change(manager, ctx, name, tag, { action: 'delete', reason: dto.reason ?? '', to: null });
    });
  }

  /**
   * Pins a tag where it is, or moves it to the given version and pins it there (creating it if
   * needed). Pinning again at the same version changes nothing.
   */
  async pin(project: ProjectContext, actor: Actor, modelName: string, rawName: string, dto: TagTargetDto): Promise<TagDto> {
    const name = assertName('tag', rawName);
    return this.dataSource.transaction(async (manager) => {
      const ctx = await this.context(manager, project, actor, modelName);
      const existing = await this.lockBeforeTarget(manager, ctx, name, dto);
      const wanted = dto.version !== undefined || dto.ref !== undefined ? await this.target(manager, ctx, dto) : null;
      if (!wanted && !existing.tag) throw this.notFound(ctx, name);
      const { tag, created } = wanted && !existing.tag ? await this.writer.lock(manager, ctx, name, wanted) : existing;
      const to = wanted ?? currentVersion(tag!);
      if (tag!.pinned) {
        if (tag!.version_id !== to.id) throw this.pinned(ctx, name, tag!);
        return this.view(manager, project, ctx.model, name);
      }
      await this.writer.change(manager, ctx, name, tag, { action: 'pin', reason: dto.reason ?? '', to, pinned: true }, created);
      return this.view(manager, project, ctx.model, name);
    });
  }

  /** Lets a pinned tag move again; an unpinned `latest` catches up with the newest ready version at once. */
  async unpin(project: ProjectContext, actor: Actor, modelName: string, rawName: string, dto: ReasonDto): Promise<TagDto> {
    const name = assertName('tag', rawName);
    return this.dataSource.transaction(async (manager) => {
      const ctx = await this.context(manager, project, actor, modelName);
      const tag = await this.locked(manager, ctx, name);
      if (tag.pinned) {
        await this.writer.change(manager, ctx, name, tag, { action: 'unpin', reason: dto.reason ?? '', to: currentVersion(tag), pinned: false });
        if (name === LATEST) await this.writer.followLatest(manager, ctx, `${LATEST} unpinned`);
      }
      return this.view(manager, project, ctx.model, name);
    });
  }

  /**
   * Moves the tag back to the most recent version in its history that differs from where it
   * is now and is still ready, and pins it there so nothing moves it forward again by accident.
   */
  async rollback(project: ProjectContext, actor: Actor, modelName: string, rawName: string, dto: ReasonDto): Promise<TagDto> {
    const name = assertName('tag', rawName);
    return this.dataSource.transaction(async (manager) => {
      const ctx = await this.context(manager, project, actor, modelName);
      const tag = await this.locked(manager, ctx, name);
      if (tag.pinned) throw this.pinned(ctx, name, tag);
      const previous: VersionRow[] = await manager.query(
        `SELECT v.id, v.number, v.state, v.manifest_digest
           FROM tag_history h JOIN model_versions v ON v.model_id = h.model_id AND v.number = h.to_version
          WHERE h.model_id = $1 AND h.tag = $2 AND h.to_version <> $3 AND v.state = 'ready'
          ORDER BY h.seq DESC LIMIT 1 FOR SHARE OF v`,
        [ctx.model.id, name, tag.version_number],
      );
      if (!previous[0]) {
        throw new WharfError('no_rollback_target', `Tag "${name}" has pointed at no other ready version than ${tag.version_number}`);
      }
      await this.writer.change(manager, ctx, name, tag, { action: 'rollback', reason: dto.reason ?? '', to: previous[0], pinned: true });
      return this.view(manager, project, ctx.model, name);
    });
  }

  /** Newest first; kept after the tag is deleted. */
  async history(project: ProjectContext, modelName: string, rawName: string, query: TagHistoryQuery): Promise<TagHistoryPageDto> {
    const name = assertName('tag', rawName);
    const model = await this.models.find(project, modelName);
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const builder = this.dataSource
      .getRepository(TagHistoryEntry)
      .createQueryBuilder('h')
      .where('h.model_id = :modelId AND h.tag = :name', { modelId: model.id, name })
      .orderBy('h.seq', 'DESC')
      .limit(limit + 1);
    if (query.before !== undefined) builder.andWhere('h.seq < :before', { before: query.before });
    const entries = await builder.getMany();
    if (entries.length === 0 && query.before === undefined) {
      throw new WharfError('tag_not_found', `Tag "${name}" of model "${project.name}/${model.name}" has no history`);
    }
    const items = entries.slice(0, limit);
    return {
      items: items.map((entry) => ({
        seq: entry.seq,
        action: entry.action,
        from: entry.fromVersion,
        to: entry.toVersion,
        actor: entry.actor,
        reason: entry.reason,
        at: entry.occurredAt.toISOString(),
      })),
      nextBefore: entries.length > limit ? items[items.length - 1].seq : null,
    };
  }

  private async context(manager: EntityManager, project: ProjectContext, actor: Actor, modelName: string): Promise<TagContext> {
    return { project, actor, model: await this.models.find(project, modelName, manager) };
  }

  /**
   * Locks the tag before its move's target is resolved, in the one lock order: tag rows by
   * name, then version rows (TagWriter.lockLatestFirst). A target naming a tag that sorts
   * first has that tag share-locked before this one, so two tags moved to each other at once
   * queue instead of deadlocking.
   */
  private async lockBeforeTarget(manager: EntityManager, ctx: TagContext, name: string, dto: TagTargetDto): Promise<{ tag: TagRow | null; created: boolean }> {
    if (dto.ref !== undefined && dto.version === undefined) {
      const { selector } = completeReference(parseReference(dto.ref, { field: 'ref' }), { project: ctx.project.name, model: ctx.model.name });
      if (selector.kind === 'tag' && selector.tag < name) await this.writer.holdTag(manager, ctx.model, selector.tag);
    }
    return this.writer.lock(manager, ctx, name);
  }

  /** The version a move or pin names, share-locked so it cannot be archived meanwhile. */
  private async target(manager: EntityManager, ctx: TagContext, dto: TagTargetDto): Promise<VersionRow> {
    if ((dto.version === undefined) === (dto.ref === undefined)) {
      throw new WharfError('validation_failed', 'Give exactly one of "version" and "ref"', {
        errors: [{ field: 'version', message: 'exactly one of version and ref is required' }],
      });
    }
    const selector =
      dto.version !== undefined
        ? { kind: 'number' as const, number: dto.version }
        : completeReference(parseReference(dto.ref, { field: 'ref' }), { project: ctx.project.name, model: ctx.model.name }).selector;
    const version = await versionRepository.findBySelector(manager, ctx.project.name, ctx.model, selector, true);
    assertReady(ctx.project.name, ctx.model, version, dto.version !== undefined ? 'version' : 'ref');
    return version;
  }

  private async locked(manager: EntityManager, ctx: TagContext, name: string): Promise<TagRow> {
    const { tag } = await this.writer.lock(manager, ctx, name);
    if (!tag) throw this.notFound(ctx, name);
    return tag;
  }

  private notFound(ctx: TagContext, name: string): WharfError {
    return new WharfError('tag_not_found', `No tag "${name}" on model "${ctx.project.name}/${ctx.model.name}"`);
  }

  private pinned(ctx: TagContext, name: string, tag: TagRow): WharfError {
    return new WharfError('tag_pinned', `Tag "${ctx.project.name}/${ctx.model.name}:${name}" is pinned at version ${tag.version_number}; unpin it first`, {
      version: tag.version_number,
    });
  }

  private async view(manager: EntityManager, project: ProjectContext, model: Model, name: string): Promise<TagDto> {
    const rows: TagViewRow[] = await manager.query(`${TAG_VIEW} WHERE t.model_id = $1 AND t.name = $2`, [model.id, name]);
    if (!rows[0]) throw new WharfError('tag_not_found', `No tag "${name}" on model "${project.name}/${model.name}"`);
    return tagDto(project, model, rows[0]);
  }
}
