import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Demand, versionKey } from './assignments';
import type { DemandDto, RejectedDemandDto } from './dto/node.dto';

/**
 * What pods on a node asked for: each demand names a version by project, model and number,
 * resolved through the unique indexes on those names. Only ready (or archived) versions can
 * be assigned; the rest come back rejected with a code the agent passes on to its caller.
 */
@Injectable()
export class DemandsService {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async check(demands: DemandDto[]): Promise<{ demands: Demand[]; rejected: RejectedDemandDto[] }> {
    if (!demands.length) return { demands: [], rejected: [] };
    const rows: { i: number; model_id: string | null; number: number | null; state: string | null; manifest_digest: string | null }[] =
      await this.dataSource.query(
        `SELECT d.i, m.id AS model_id, v.number, v.state, v.manifest_digest
           FROM jsonb_to_recordset($1::jsonb) AS d(i int, project text, model text, version int)
           LEFT JOIN projects p ON p.name = d.project
           LEFT JOIN models m ON m.project_id = p.id AND m.name = d.model
           LEFT JOIN model_versions v ON v.model_id = m.id AND v.number = d.version
          ORDER BY d.i`,
        [JSON.stringify(demands.map((demand, i) => ({ i, project: demand.project, model: demand.model, version: demand.version })))],
      );
    const result: { demands: Demand[]; rejected: RejectedDemandDto[] } = { demands: [], rejected: [] };
    for (const row of rows) {
      const demand = demands[row.i];
      const ref = { project: demand.project, model: demand.model, version: demand.version };
      if (!row.model_id) result.rejected.push({ ...ref, code: 'model_not_found', detail: `No model "${demand.project}/${demand.model}"` });
      else if (row.number === null) result.rejected.push({ ...ref, code: 'version_not_found', detail: `No version ${versionKey(demand)}` });
      else if (row.state !== 'ready' && row.state !== 'archived') {
        result.rejected.push({ ...ref, code: 'version_state_conflict', detail: `${versionKey(demand)} is ${row.state}` });
      } else result.demands.push({ target: { ...ref, manifestDigest: row.manifest_digest! }, reason: demand.reason });
    }
    return result;
  }
}
