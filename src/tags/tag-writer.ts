import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { EventsService } from '../events/events.service';
import { InvalidationService } from '../invalidation/invalidation.service';
import { Model } from '../models/model.entity';
import { VersionRow } from '../references/version-lookup';
import { TagAction } from './tag.entity';

/** `latest` follows the newest ready version by itself, unless pinned. */
export const LATEST = 'latest';

export interface TagRow {
  id: string;
  name: string;
  version_id: string;
  version_number: number;
  pinned: boolean;
}

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
      const rows: Omit<TagRow, 'version_number'>[] = await manager.query(
        `SELECT id, name, version_id, pinned FROM tags WHERE model_id = $1 AND name = $2 FOR UPDATE`,
        [ctx.model.id, name],
      );
      if (rows[0]) {
        const [version]: { number: number }[] = await manager.query(`SELECT number FROM model_versions WHERE id = $1`, [rows[0].version_id]);
        return { tag: { ...rows[0], version_number: version.number }, created: false };
      }
      if (!create) return { tag: null, created: false };
      const inserted: { id: string }[] = await manager.query(
        `INSERT INTO tags (model_id, name, version_id, updated_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (model_id, name) DO NOTHING RETURNING id`,
        [ctx.model.id, name, create.id, ctx.actor.principalName],
      );
      if (inserted[0]) {
        return { tag: { id: inserted[0].id, name, version_id: create.id, version_number: create.number, pinned: false }, created: true };
      }
      // Someone else created it meanwhile (and maybe deleted it again): look again.
    }
    throw new WharfError('service_unavailable', `Tag "${name}" is changing too fast; try again`);
  }

  /** Applies a change to a locked tag (or creates it) and records it. */
  async change(manager: EntityManager, ctx: TagContext, name: string, tag: TagRow | null, change: TagChange, createdNow = false): Promise<void> {
    const from = createdNow ? null : (tag?.version_number ?? null);
    if (change.to === null) {
      if (tag) await manager.query(`DELETE FROM tags WHERE id = $1`, [tag.id]);
    } else if (tag) {
      const pinned = change.pinned ?? tag.pinned;
      await manager.query(
        `UPDATE tags SET version_id = $2, pinned = $3,
                pinned_at = CASE WHEN $3 THEN coalesce(pinned_at, now()) END,
                pinned_by = CASE WHEN $3 THEN coalesce(pinned_by, $4) END,
                updated_by = $4, updated_at = now()
          WHERE id = $1`,
        [tag.id, change.to.id, pinned, ctx.actor.principalName],
      );
    } else {
      throw new Error('TagWriter.change needs a locked tag; use lock(…, create) first');
    }
    const [{ seq }]: { seq: number }[] = await manager.query(
      `INSERT INTO tag_history (model_id, tag, seq, action, from_version, to_version, actor, reason)
       SELECT $1::uuid, $2::text, coalesce(max(seq), 0) + 1, $3::text, $4::integer, $5::integer, $6::text, $7::text FROM tag_history WHERE model_id = $1 AND tag = $2
       RETURNING seq`,
      [ctx.model.id, name, change.action, from, change.to?.number ?? null, ctx.actor.principalName, change.reason],
    );
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
    const creating = await this.newestReady(manager, ctx, exclude);
    const { tag, created } = await this.lock(manager, ctx, LATEST, creating ?? undefined);
    if (!tag || tag.pinned) return;
    const target = await this.newestReady(manager, ctx, exclude);
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
    await manager.query(`SELECT 1 FROM tags WHERE model_id = $1 AND name = $2 FOR UPDATE`, [model.id, LATEST]);
  }

  /** Share-locks a tag row (if it exists) ahead of the lock order; see TagsService.lockBeforeTarget. */
  async holdTag(manager: EntityManager, model: Model, name: string): Promise<void> {
    await manager.query(`SELECT 1 FROM tags WHERE model_id = $1 AND name = $2 FOR SHARE`, [model.id, name]);
  }

  private async newestReady(manager: EntityManager, ctx: TagContext, exclude?: string): Promise<VersionRow | null> {
    const rows: VersionRow[] = await manager.query(
      `SELECT id, number, state, manifest_digest FROM model_versions
        WHERE model_id = $1 AND state = 'ready' AND id IS DISTINCT FROM $2
        ORDER BY number DESC LIMIT 1`,
      [ctx.model.id, exclude ?? null],
    );
    return rows[0] ?? null;
  }

  /** Endpoints route to tags by name; such a tag must stay. */
  async assertTagUnrouted(manager: EntityManager, ctx: TagContext, name: string): Promise<void> {
    const routes: { endpoint: string }[] = await manager.query(
      `SELECT DISTINCT e.name AS endpoint FROM endpoint_routes r JOIN endpoints e ON e.id = r.endpoint_id
        WHERE r.model_id = $1 AND r.tag = $2 ORDER BY 1`,
      [ctx.model.id, name],
    );
    if (routes.length) {
      throw new WharfError('tag_in_use', `Endpoint(s) ${routes.map((r) => `"${r.endpoint}"`).join(', ')} route to tag "${name}"`, {
        endpoints: routes.map((r) => r.endpoint),
      });
    }
  }

  /**
   * Refuses to archive or delete a version that a tag or an endpoint points at. An unpinned
   * `latest` does not count: it moves on to the previous ready version instead.
   */
  async assertVersionUnreferenced(manager: EntityManager, ctx: TagContext, versionId: string, versionNumber: number): Promise<void> {
    const tags: { name: string }[] = await manager.query(
      `SELECT name FROM tags WHERE version_id = $1 AND NOT (name = $2 AND NOT pinned) ORDER BY name`,
      [versionId, LATEST],
    );
    const endpoints: { name: string }[] = await manager.query(
      `SELECT DISTINCT e.name FROM endpoint_routes r JOIN endpoints e ON e.id = r.endpoint_id WHERE r.version_id = $1 ORDER BY 1`,
      [versionId],
    );
    if (tags.length || endpoints.length) {
      const holders = [...tags.map((t) => `tag "${t.name}"`), ...endpoints.map((e) => `endpoint "${e.name}"`)];
      throw new WharfError(
        'version_in_use',
        `Version ${versionNumber} of "${ctx.project.name}/${ctx.model.name}" is referenced by ${holders.join(', ')}; move or delete them first`,
        { tags: tags.map((t) => t.name), endpoints: endpoints.map((e) => e.name) },
      );
    }
  }
}
