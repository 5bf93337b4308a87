import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Actor } from '../auth/auth-context';
import { AuditEvent } from './audit-event.entity';

export interface AuditEntry {
  /** Dotted verb, e.g. `model.create`, `version.commit`, `token.revoke`. */
  action: string;
  /** What was acted on, in reference form: `vision/resnet@3`, `token:<id>`. */
  target: string;
  project?: string | null;
  details?: Record<string, unknown>;
}

/**
 * Writes audit records. Always called with the EntityManager of the mutation's own
 * transaction, so a change and its record commit or roll back together.
 */
@Injectable()
export class AuditService {
  async record(manager: EntityManager, actor: Actor, entry: AuditEntry): Promise<void> {
    await manager.insert(AuditEvent, {
      actorId: actor.principalId,
      actor: actor.principalName,
      project: entry.project ?? null,
      action: entry.action,
      target: entry.target,
      details: (entry.details ?? {}) as object,
      requestId: actor.requestId,
    });
  }
}
