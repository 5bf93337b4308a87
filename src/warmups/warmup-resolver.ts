import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { VersionTarget } from '../nodes/assignments';

const NUMBER = /^@?([1-9][0-9]{0,9})$/;
const DIGEST = /^@?(sha256:[0-9a-f]{64})$/;

export interface ModelKey {
  projectId: string;
  project: string;
  modelId: string;
  model: string;
}

/**
 * Turns a warm-up's reference (a version number or a manifest digest) into the concrete
 * version it names now. Only ready versions are warmed: an archived or draft version resolves
 * to nothing.
 */
@Injectable()
export class WarmupResolver {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /** Whether `ref` has a shape this resolver understands; the reason when not. */
  static refProblem(ref: string): string | undefined {
    if (NUMBER.test(ref) || DIGEST.test(ref)) return undefined;
    return 'a reference is a version number (3 or @3) or a manifest digest (sha256:<64 hex>)';
  }

  async resolve(key: ModelKey, ref: string): Promise<VersionTarget | null> {
    const number = NUMBER.exec(ref);
    const digest = DIGEST.exec(ref);
    const rows: { number: number; manifest_digest: string }[] = await this.dataSource.query(
      `SELECT number, manifest_digest FROM model_versions
        WHERE model_id = $1 AND state = 'ready' AND ${number ? 'number = $2' : 'manifest_digest = $2'}
        ORDER BY number DESC LIMIT 1`,
      [key.modelId, number ? Number(number[1]) : digest?.[1]],
    );
    const row = rows[0];
    return row ? { project: key.project, model: key.model, version: row.number, manifestDigest: row.manifest_digest } : null;
  }
}
