/**
 * Rows of an `UPDATE … RETURNING` or `DELETE … RETURNING`. TypeORM answers those two as
 * `[rows, affectedCount]` but `INSERT … RETURNING` and `SELECT` as plain rows.
 */
export async function returning<T>(runner: { query(sql: string, params?: unknown[]): Promise<unknown> }, sql: string, params: unknown[] = []): Promise<T[]> {
  const result = await runner.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
