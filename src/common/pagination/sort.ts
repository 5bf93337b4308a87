import { WharfError } from '../errors/wharf-error';
import { KeysetSort } from './cursor';

export interface SortableColumn {
  column: string;
  cast: string;
}

/**
 * Parses `sort=field` / `sort=-field` against the fields a list allows, into a keyset order.
 */
export function parseSort(
  raw: string | undefined,
  allowed: Record<string, SortableColumn>,
  fallback: string,
  idColumn: string,
): KeysetSort {
  const sort = raw ?? fallback;
  const descending = sort.startsWith('-');
  const field = descending ? sort.slice(1) : sort;
  const column = allowed[field];
  if (!column) {
    const choices = Object.keys(allowed).flatMap((name) => [name, `-${name}`]).join(', ');
    throw new WharfError('validation_failed', `sort must be one of ${choices}`, {
      errors: [{ field: 'sort', message: `must be one of ${choices}` }],
    });
  }
  return { sort, column: column.column, cast: column.cast, idColumn, descending };
}

/** SQL LIKE pattern for a literal prefix. */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}
