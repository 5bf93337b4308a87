import { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { WharfError } from '../errors/wharf-error';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

interface CursorPayload {
  /** The sort key of the last row, as Postgres printed it (exact, timestamps included). */
  v: string;
  id: string;
  /** The sort the cursor was made for; a cursor is refused under another sort. */
  s: string;
}

export function encodeCursor(payload: CursorPayload): string {
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

export function decodeCursor(cursor: string, sort: string): CursorPayload {
  try {
    const payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorPayload;
    if (typeof payload.v === 'string' && typeof payload.id === 'string' && payload.s === sort) return payload;
  } catch {
    // fall through to the error below
  }
  throw new WharfError('invalid_cursor', 'The cursor is not one this list returned for this sort order', {
    errors: [{ field: 'cursor', message: 'not a cursor returned by this list with the same sort' }],
  });
}

export interface KeysetSort {
  /** The request's sort string, e.g. `-createdAt`. */
  sort: string;
  /** SQL expression of the sort key, e.g. `model.created_at`. */
  column: string;
  /** SQL expression of the unique tie-breaker, e.g. `model.id`. */
  idColumn: string;
  /** Postgres type to cast the cursor value back to, e.g. `timestamptz`. */
  cast: string;
  descending: boolean;
}

/**
 * Keyset pagination: rows after the cursor in (sort key, id) order. Sort keys are carried as
 * Postgres' own text form, so no precision is lost (JavaScript dates drop microseconds).
 */
export async function paginate<E extends ObjectLiteral, R extends object = Record<string, unknown>>(
  query: SelectQueryBuilder<E>,
  order: KeysetSort,
  cursor: string | undefined,
  limit = DEFAULT_PAGE_SIZE,
): Promise<Page<E> & { raw: R[] }> {
  const direction = order.descending ? 'DESC' : 'ASC';
  if (cursor) {
    const after = decodeCursor(cursor, order.sort);
    const comparison = order.descending ? '<' : '>';
    query.andWhere(
      `(${order.column}, ${order.idColumn}) ${comparison} (CAST(:cursorValue AS ${order.cast}), CAST(:cursorId AS uuid))`,
      { cursorValue: after.v, cursorId: after.id },
    );
  }
  query
    .addSelect(`${order.column}::text`, 'cursor_value')
    .orderBy(order.column, direction)
    .addOrderBy(order.idColumn, direction)
    .take(undefined)
    .limit(limit + 1);
  const { entities, raw } = await query.getRawAndEntities<R & { cursor_value: string }>();
  const hasMore = entities.length > limit;
  const items = entities.slice(0, limit);
  const last = items.length - 1;
  const nextCursor =
    hasMore && last >= 0
      ? encodeCursor({ v: raw[last].cursor_value, id: (items[last] as unknown as { id: string }).id, s: order.sort })
      : null;
  return { items, nextCursor, raw: raw.slice(0, limit) };
}
