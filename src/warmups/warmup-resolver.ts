import { Inject, Injectable } from '@nestjs/common';
import { WharfError } from '../common/errors/wharf-error';
import type { VersionTarget } from './warmup-target';
import { parseReference } from '../common/validation/reference';
import { ResolveService } from '../references/resolve.service';

export interface ModelKey {
  projectId: string;
  project: string;
  modelId: string;
  model: string;
}

/**
 * Turns a warm-up's reference into the concrete version it names now, through the release
 * resolver (an in-process cache invalidated on every replica when a tag moves), so a warm-up
 * that follows a tag follows it within a heartbeat. References are what `resolve` takes: a tag
 * (`prod` or `:prod`), a number (`@3`) or a manifest digest (`@sha256:…`).
 */
@Injectable()
export class WarmupResolver {
  constructor(@Inject(ResolveService) private readonly resolver: ResolveService) {}

  /** Throws 400 invalid_reference when `ref` is not a reference. */
  static check(ref: string): void {
    parseReference(ref, { bareIsTag: true });
  }

  /** The version now; throws the resolver's problem (tag_not_found, version_not_found, …). */
  async resolveOrThrow(key: ModelKey, ref: string): Promise<VersionTarget> {
    const resolved = await this.resolver.resolve({ id: key.projectId, name: key.project, role: 'viewer' }, key.model, ref);
    if (!resolved.manifestDigest) throw new WharfError('version_not_ready', `"${ref}" names version ${resolved.number}, which is ${resolved.state}`);
    return { project: key.project, model: key.model, version: resolved.number, manifestDigest: resolved.manifestDigest };
  }

  /** The version now, or null when the reference names nothing servable (a tag deleted since). */
  async resolve(key: ModelKey, ref: string): Promise<VersionTarget | null> {
    try {
      return await this.resolveOrThrow(key, ref);
    } catch (error) {
      if (error instanceof WharfError) return null;
      throw error;
    }
  }
}
