/**
 * What a repository runs its SQL on: the DataSource, or the EntityManager of the caller's
 * transaction. Repositories never open transactions; services decide where they begin and end.
 */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}
