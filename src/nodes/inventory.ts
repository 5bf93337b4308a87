import { WharfError } from '../common/errors/wharf-error';
import { versionKey } from './assignments';
import type { HeartbeatDto, VersionRefDto } from './dto/node.dto';

export type InventoryReport =
  | { kind: 'full'; sequence: number | null }
  | { kind: 'delta'; sequence: number; since: number };

function refuse(field: string, message: string): never {
  throw new WharfError('validation_failed', `${field}: ${message}`, { errors: [{ field, message }] });
}

function assertUnique(field: string, refs: readonly VersionRefDto[], seen = new Set<string>()): Set<string> {
  for (const ref of refs) {
    const key = versionKey(ref);
    if (seen.has(key)) refuse(field, `${key} is listed twice`);
    seen.add(key);
  }
  return seen;
}

/**
 * Checks the inventory part of a heartbeat beyond what the DTO can say: exactly one of
 * `entries` (the whole inventory) and `delta` (changes since an acknowledged sequence), a
 * `sequence` after `since`, and each version named once, so a delta has one meaning.
 */
export function readInventory(dto: HeartbeatDto): InventoryReport {
  if (dto.entries && dto.delta) refuse('delta', 'send either entries (the whole inventory) or delta, not both');
  if (dto.entries) {
    assertUnique('entries', dto.entries);
    return { kind: 'full', sequence: dto.sequence ?? null };
  }
  if (!dto.delta) refuse('entries', 'entries (the whole inventory) or delta is required');
  if (dto.sequence === undefined) refuse('sequence', 'a delta needs the sequence of this heartbeat');
  if (dto.sequence <= dto.delta.since) refuse('sequence', `must be greater than delta.since (${dto.delta.since})`);
  assertUnique('delta.removals', dto.delta.removals, assertUnique('delta.upserts', dto.delta.upserts));
  return { kind: 'delta', sequence: dto.sequence, since: dto.delta.since };
}
