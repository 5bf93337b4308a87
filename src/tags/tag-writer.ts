import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { EventsService } from '../events/events.service';
import { InvalidationService } from '../invalidation/invalidation.service';
import { Model } from '../models/model.entity';
import { endpointRouteRepository } from '../endpoints/endpoint-route.repository';
import { versionRepository, VersionRow } from '../versions/version.repository';
import { TagAction } from './tag.entity';
import { LATEST, tagRepository, TagRow } from './tag.repository';

export { LATEST } from './tag.repository';
export type { TagRow } from './tag.repository';

export interface TagContext {
  project: ProjectContext;
  model: Model;
  actor: Actor;
}

export interface TagChange {
  action: TagAction;
  reason: string;
  /** The version the tag points to afterwards; null deletes the tag. */
  to: VersionRow | null;
  /** Pinned afterwards; unchanged when undefined. */
  pinned?: boolean;
}

/**
 * Every change of a tag goes through here, inside the caller's transaction and under the
 * tag's row lock: the tag row, its history entry (numbered per tag), the audit record and the
 * cache invalidation commit together or not at all.
 */
@Injectable()
export class TagWriter {
  constructor(
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(InvalidationService) private readonly invalidation: InvalidationService,
    @Inject(EventsService) private readonly events: EventsService,
  ) {}

  /**
   * Locks the tag row for the rest of the transaction. With `create`, a missing tag is first
   * inserted pointing at `create` (concurrent creators queue on the unique key), and the
   * result says whether this transaction created it.
   *
   * The row is locked on its own and its version read by a second statement. A `FOR UPDATE`
   * over a join re-checks the join after waiting for a concurrent move, against the version
   * row it read before waiting: the moved tag no longer matches it and the query answers no
   * row, a false "tag not found". The second statement runs after the wait, so it sees the
   * version the tag now points at.
   */
  async lock(manager: EntityManager, ctx: TagContext, name: string, create?: VersionRow): Promise<{ tag: TagRow | null; created: boolean }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const row = await tagRepository.lockForUpdate(manager, ctx.model.id, name);
      if (row) return { tag: { ...row, version_number: await versionRepository.numberOf(manager, row.version_id) }, created: false };
      if (!create) return { tag: null, created: false };
      const id = await tagRepository.insertIfAbsent(manager, ctx.model.id, name, create.id, ctx.actor.principalName);
      if (id) return { tag: { id, name, version_id: create.id, version_number: create.number, pinned: false }, created: true };
      // Someone else created it meanwhile (and maybe deleted it again): look again.
    }
    throw new WharfError('service_unavailable', `Tag "${name}" is changing too fast; try again`);
  }

  /** Applies a change to a locked tag (or creates it) and records it. */
  async change(manager: EntityManager, ctx: TagContext, name: string, tag: TagRow | null, change: TagChange, createdNow = false): Promise<void> {
    const from = createdNow ? null : (tag?.version_number ?? null);
    if (change.to === null) {
      if (tag) await tagRepository.delete(manager, tag.id);
    } else if (tag) {
      await tagRepository.update(manager, tag.id, change.to.id, change.pinned ?? tag.pinned, ctx.actor.principalName);
    } else {
      throw new Error('TagWriter.change needs a locked tag; use lock(…, create) first');
    }
    const seq = await tagRepository.appendHistory(manager, ctx.model.id, name, {
      action: change.action,
      from,
      to: change.to?.number ?? null,
      actor: ctx.actor.principalName,
      reason: change.reason,
    });
    await this.audit.record(manager, ctx.actor, {
      action: `tag.${change.action}`,
      target: `${ctx.project.name}/${ctx.model.name}:${name}`,
      project: ctx.project.name,
      details: { from, to: change.to?.number ?? null, pinned: change.pinned, reason: change.reason, seq },
    });
    const event = { project: ctx.project, actor: ctx.actor.principalName };
    if (change.to && change.to.number !== from) {
      await this.events.emit(manager, {
        ...event,
        type: 'tag.moved',
        data: { model: ctx.model.name, tag: name, version: change.to.number, previousVersion: from, reason: change.reason || null },
      });
    }
    if (change.pinned !== undefined && change.to) {
      await this.events.emit(manager, {
        ...event,
        type: 'tag.pinned',
        data: { model: ctx.model.name, tag: name, version: change.to.number, pinned: change.pinned },
      });
    }
    await this.invalidation.publish(manager, { kind: 'project', projectId: ctx.project.id });
  }

  /**
   * Points `latest` at the newest ready version (other than `exclude`, a version about to be
   * deleted), creating or deleting it as needed. Called in the transaction of every commit,
   * archive, unarchive and delete, after the version row is changed.
   *
   * The newest version is chosen while the tag's lock is held: a transaction that made a
   * version ready holds that change until it commits, and it takes this lock before
   * committing, so whoever holds the lock sees every version made ready by those before it,
   * and those after it will see its own. Chosen before the lock, two commits racing could
   * each pick their own version and the later-locking one would move `latest` back.
   */
  async followLatest(manager: EntityManager, ctx: TagContext, reason: string, exclude?: string): Promise<void> {
    // Only a missing tag needs a version to be created with; the choice that counts is made below.
    const creating = await versionRepository.newestReady(manager, ctx.model.id, exclude);
    const { tag, created } = await this.lock(manager, ctx, LATEST, creating ?? undefined);
    if (!tag || tag.pinned) return;
    const target = await versionRepository.newestReady(manager, ctx.model.id, exclude);
    if (created || tag.version_id !== target?.id) {
      if (target === null) await this.assertTagUnrouted(manager, ctx, LATEST);
      await this.change(manager, ctx, LATEST, tag, { action: target ? 'follow' : 'delete', reason, to: target }, created);
    }
  }

  /**
   * Lock order: a tag's row before the version rows it points at. Tag changes take the tag
   * row and then share-lock their target (or key-share it through the foreign key), so a
   * transaction that changes which version `latest` may follow (commit, archive, unarchive,
   * delete) takes the `latest` row here before it locks its version. Taken the other way
   * round, an archive and a rollback or unpin of `latest` deadlocked each other.
   */
  async lockLatestFirst(manager: EntityManager, model: Model): Promise<void> {
    await tagRepository.lockLatest(manager, model.id);
  }

  /** Share-locks a tag row (if it exists) ahead of the lock order; see TagsService.lockBeforeTarget. */
  async holdTag(manager: EntityManager, model: Model, name: string): Promise<void> {
    await tagRepository.holdForShare(manager, model.id, name);
  }

  /** Endpoints route to tags by name; such a tag must stay. */
  async assertTagUnrouted(manager: EntityManager, ctx: TagContext, name: string): Promise<void> {
    const endpoints = await endpointRouteRepository.endpointsRoutingToTag(manager, ctx.model.id, name);
    if (endpoints.length) {
      throw new WharfError('tag_in_use', `Endpoint(s) ${endpoints.map((endpoint) => `"${endpoint}"`).join(', ')} route to tag "${name}"`, { endpoints });
    }
  }

  /**
   * Refuses to archive or delete a version that a tag or an endpoint points at. An unpinned
   * `latest` does not count: it moves on to the previous ready version instead.
   */
  async assertVersionUnreferenced(manager: EntityManager, ctx: TagContext, versionId: string, versionNumber: number): Promise<void> {
    const tags = await tagRepository.namesHolding(manager, versionId);
    const endpoints = await endpointRouteRepository.endpointsRoutingToVersion(manager, versionId);
    if (tags.length || endpoints.length) {
      const holders = [...tags.map((tag) => `tag "${tag}"`), ...endpoints.map((endpoint) => `endpoint "${endpoint}"`)];
      throw new WharfError(
        'version_in_use',
        `Version ${versionNumber} of "${ctx.project.name}/${ctx.model.name}" is referenced by ${holders.join(', ')}; move or delete them first`,
        { tags, endpoints },
      );
    }
  }
}
