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
  /** Postgres type of the tie-breaker; `uuid` unless said. */
  idCast?: string;
  descending: boolean;
}

/** How cursor parts of a type look; a cursor holding anything else was not made by this list. */
const CURSOR_FORMS: Record<string, RegExp> = {
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  bigint: /^[0-9]{1,19}$/,
  timestamptz: /^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?[+-][0-9]{2}(:[0-9]{2})?$/,
};

/** The cursor's position, checked against the sort it was made for and the types of its parts. */
function cursorPosition(cursor: string, order: KeysetSort): { v: string; id: string } {
  const after = decodeCursor(cursor, order.sort);
  const wellFormed = (value: string, type: string) => CURSOR_FORMS[type]?.test(value) ?? true;
  if (!wellFormed(after.v, order.cast) || !wellFormed(after.id, order.idCast ?? 'uuid')) {
    throw new WharfError('invalid_cursor', 'The cursor is not one this list returned');
  }
  return after;
}

/** The page of `limit` rows out of `limit + 1` read, and the cursor after its last row. */
function pageOf<T>(rows: T[], limit: number, order: KeysetSort, position: (row: T) => { v: string; id: string }): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor({ ...position(last), s: order.sort }) : null };
}

/**
 * Keyset pagination over raw SQL: `sql` selects the rows (parameters `$1…$n`, no ORDER BY or
 * LIMIT) and `order` names columns of its result. The sort key travels in Postgres' own text
 * form, so no precision is lost; rows come back without the helper's `cursor_value` column.
 */
export async function paginateSql<R extends { id: string | number }>(
  db: { query(sql: string, params?: unknown[]): Promise<unknown> },
  sql: string,
  params: unknown[],
  order: KeysetSort,
  cursor: string | undefined,
  limit = DEFAULT_PAGE_SIZE,
): Promise<Page<R>> {
  const after = cursor ? cursorPosition(cursor, order) : undefined;
  const n = params.length;
  const direction = order.descending ? 'DESC' : 'ASC';
  const rows = (await db.query(
    `SELECT page_rows.*, page_rows.${order.column}::text AS cursor_value FROM (${sql}) AS page_rows
      WHERE $${n + 1}::text IS NULL
         OR (page_rows.${order.column}, page_rows.${order.idColumn}) ${order.descending ? '<' : '>'} (CAST($${n + 1} AS ${order.cast}), CAST($${n + 2} AS ${order.idCast ?? 'uuid'}))
      ORDER BY page_rows.${order.column} ${direction}, page_rows.${order.idColumn} ${direction}
      LIMIT $${n + 3}`,
    [...params, after?.v ?? null, after?.id ?? null, limit + 1],
  )) as (R & { cursor_value: string })[];
  const page = pageOf(rows, limit, order, (row) => ({ v: row.cursor_value, id: String(row.id) }));
  return { items: page.items.map(({ cursor_value: _, ...row }) => row as unknown as R), nextCursor: page.nextCursor };
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
    const after = cursorPosition(cursor, order);
    const comparison = order.descending ? '<' : '>';
    query.andWhere(
      `(${order.column}, ${order.idColumn}) ${comparison} (CAST(:cursorValue AS ${order.cast}), CAST(:cursorId AS ${order.idCast ?? 'uuid'}))`,
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
  const page = pageOf(entities, limit, order, (entity) => ({ v: raw[entities.indexOf(entity)].cursor_value, id: String((entity as unknown as { id: string }).id) }));
  return { ...page, raw: raw.slice(0, limit) };
}
