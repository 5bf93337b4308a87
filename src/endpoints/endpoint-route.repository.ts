import { Queryable } from '../database/queryable';

async function endpointNames(db: Queryable, where: string, params: unknown[]): Promise<string[]> {
  const rows = (await db.query(
    `SELECT DISTINCT e.name FROM endpoint_routes r JOIN endpoints e ON e.id = r.endpoint_id WHERE ${where} ORDER BY 1`,
    params,
  )) as { name: string }[];
  return rows.map((row) => row.name);
}

/**
 * The questions other rooms ask of the `endpoint_routes` table: which endpoints would break if a
 * model, a tag or a version went away. Sorted by name, so refusals list them the same way each time.
 */
export const endpointRouteRepository = {
  endpointsRoutingToModel(db: Queryable, modelId: string): Promise<string[]> {
    return endpointNames(db, 'r.model_id = $1', [modelId]);
  },

  endpointsRoutingToTag(db: Queryable, modelId: string, tag: string): Promise<string[]> {
    return endpointNames(db, 'r.model_id = $1 AND r.tag = $2', [modelId, tag]);
  },

  endpointsRoutingToVersion(db: Queryable, versionId: string): Promise<string[]> {
    return endpointNames(db, 'r.version_id = $1', [versionId]);
  },
};
