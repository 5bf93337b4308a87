import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { NO_STICKY_KEY, StickyKeySource } from '../common/http/sticky-key';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { InvalidationService } from '../invalidation/invalidation.service';
import { StampedCache } from '../invalidation/stamped-cache';
import { Model } from '../models/model.entity';
import { ModelsService } from '../models/models.service';
import { ResolvedVersionDto } from './dto/resolve.dto';
import { EndpointsService } from '../endpoints/endpoints.service';
import { completeReference, EndpointReference, formatSelector, parseEndpointReference, parseReference, Selector } from '../common/validation/reference';
import { versionRepository, VersionRow } from '../versions/version.repository';

export function resolvedDto(projectName: string, model: Model, version: VersionRow, selector: Selector): ResolvedVersionDto {
  const dto: ResolvedVersionDto = {
    reference: `${projectName}/${model.name}@${version.number}`,
    project: projectName,
    model: model.name,
    number: version.number,
    state: version.state,
    manifestDigest: version.manifest_digest,
  };
  if (selector.kind === 'tag') {
    dto.tag = selector.tag;
    dto.pinned = version.tag_pinned ?? false;
  }
  return dto;
}

/**
 * Turns a reference into the concrete version, from an in-process cache that every change
 * (tag move, pin, rollback, version state change) invalidates on every replica through
 * LISTEN/NOTIFY. Drafts and failed versions never resolve; an archived version still does by
 * number or digest (an exact pin keeps working), but tags only ever point at ready versions.
 */
interface CachedResolution {
  dto: ResolvedVersionDto;
  /** The response body, serialised once. */
  json: string;
}

@Injectable()
export class ResolveService {
  private readonly cache: StampedCache<CachedResolution>;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ModelsService) private readonly models: ModelsService,
    @Inject(EndpointsService) private readonly endpoints: EndpointsService,
    @Inject(InvalidationService) private readonly invalidation: InvalidationService,
    @Inject(WHARF_CONFIG) config: WharfConfig,
  ) {
    this.cache = new StampedCache(config.CACHE_MAX_ENTRIES, config.CACHE_TTL_SECONDS);
  }

  async resolve(project: ProjectContext, modelName: string, ref: string, key?: string, stickyKeys: StickyKeySource = NO_STICKY_KEY): Promise<ResolvedVersionDto> {
    const endpoint = parseEndpointReference(ref);
    if (endpoint) return this.resolveEndpoint(project, modelName, endpoint, key, stickyKeys);
    const stamp = this.invalidation.projectStamp(project.id);
    const cacheKey = `${modelName}\n${ref}`;
    const hit = this.cache.get(stamp, cacheKey);
    if (hit) return hit.dto;
    const full = completeReference(parseReference(ref, { bareIsTag: true }), { project: project.name, model: modelName });
    const model = await this.models.find(project, modelName);
    const version = await versionRepository.findBySelector(this.dataSource.manager, project.name, model, full.selector);
    if (version.state !== 'ready' && version.state !== 'archived') {
      throw new WharfError('version_not_ready', `Version ${formatSelector(full.selector)} of "${project.name}/${model.name}" is ${version.state}`);
    }
    const dto = resolvedDto(project.name, model, version, full.selector);
    this.cache.set(stamp, cacheKey, { dto, json: JSON.stringify(dto) });
    return dto;
  }

  /**
   * The version of this model that an endpoint serves to a sticky key: the endpoint's own
   * routing decision (`…/endpoints/{endpoint}/route`), never a second implementation of it, so
   * the two always agree. Not cached here: the decision comes from the endpoint's cached plan.
   */
  private async resolveEndpoint(
    project: ProjectContext,
    modelName: string,
    reference: EndpointReference,
    key: string | undefined,
    stickyKeys: StickyKeySource,
  ): Promise<ResolvedVersionDto> {
    if (reference.project !== project.name) {
      throw new WharfError('invalid_reference', `"${reference.project}/${reference.endpoint}" names project "${reference.project}", not "${project.name}"`, {
        errors: [{ field: 'ref', message: `it names project "${reference.project}", not "${project.name}"` }],
      });
    }
    const model = await this.models.find(project, modelName);
    const decision = await this.endpoints.route(project, reference.endpoint, key, stickyKeys);
    const { route } = decision;
    if (route.model !== model.name) {
      throw new WharfError(
        'endpoint_model_mismatch',
        `Endpoint "${decision.endpoint}" serves ${decision.key === null ? 'this request' : `key "${decision.key}"`} from model "${route.model}", not "${model.name}"`,
        { route: route.ref },
      );
    }
    return {
      reference: route.reference,
      project: project.name,
      model: model.name,
      number: route.version,
      state: route.state,
      manifestDigest: route.manifestDigest,
      endpoint: decision.endpoint,
      key: decision.key,
      route: route.ref,
    };
  }

  /** The serialised answer a previous resolve of exactly this model and ref cached, if still current. */
  cachedJson(project: ProjectContext, modelName: string, ref: string): string | undefined {
    return this.cache.get(this.invalidation.projectStamp(project.id), `${modelName}\n${ref}`)?.json;
  }
}
