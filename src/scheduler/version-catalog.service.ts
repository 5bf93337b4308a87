import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { VersionFacts } from './decisions';
import { PodModel, versionRef } from './pod-model';

const MAX_ENTRIES = 100_000;

/**
 * The id and size of the versions pods name. A committed version never changes, so once read it
 * is kept: each version costs one query in the life of a replica, not one per scheduling call.
 * Unknown and uncommitted versions are not kept (they may be committed a moment later).
 */
@Injectable()
export class VersionCatalogService {
  private readonly known = new Map<string, VersionFacts>();
  private readonly inFlight = new Map<string, Promise<VersionFacts | null>>();

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async lookup(model: PodModel): Promise<VersionFacts | null> {
    const ref = versionRef(model);
    const cached = this.known.get(ref);
    if (cached) return cached;
    let pending = this.inFlight.get(ref);
    if (!pending) {
      pending = this.read(model, ref).finally(() => this.inFlight.delete(ref));
      this.inFlight.set(ref, pending);
    }
    return pending;
  }

  /** For benchmarks and tests: facts known without a query. */
  remember(facts: VersionFacts): void {
    this.known.set(facts.ref, facts);
  }

  private async read(model: PodModel, ref: string): Promise<VersionFacts | null> {
    const rows: { id: string; bytes: string }[] = await this.dataSource.query(
      `SELECT v.id, (SELECT coalesce(sum(f.size), 0) FROM version_files f WHERE f.version_id = v.id) AS bytes
         FROM projects p JOIN models m ON m.project_id = p.id JOIN model_versions v ON v.model_id = m.id
        WHERE p.name = $1 AND m.name = $2 AND v.number = $3 AND v.state IN ('ready', 'archived')`,
      [model.project, model.model, model.version],
    );
    if (!rows[0]) return null;
    const facts = { id: rows[0].id, ref, bytes: Number(rows[0].bytes) };
    if (this.known.size >= MAX_ENTRIES) this.known.delete(this.known.keys().next().value!);
    this.known.set(ref, facts);
    return facts;
  }
}
