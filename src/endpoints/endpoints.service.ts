import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { DEFAULT_PAGE_SIZE, paginate } from '../common/pagination/cursor';
import { likePrefix } from '../common/pagination/sort';
import { StickyKeySource } from '../common/http/sticky-key';
import { assertName } from '../common/validation/names';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { EventsService } from '../events/events.service';
import { InvalidationService } from '../invalidation/invalidation.service';
import { StampedCache } from '../invalidation/stamped-cache';
import { ModelsService } from '../models/models.service';
import { completeReference, formatReference, parseReference } from '../common/validation/reference';
import { assertReady, versionRepository } from '../versions/version.repository';
import { EndpointDto, EndpointPageDto, EndpointRouteDto, ListEndpointsQuery, PutEndpointDto, RouteDecisionDto, WEIGHT_TOTAL } from './dto/endpoint.dto';
import { Endpoint } from './endpoint.entity';
import { mirrored, rendezvousPick, weightedRandom } from './routing';

interface RouteTarget {
  ref: string;
  weight: number;
  mirror: boolean;
  modelId: string;
  versionId: string | null;
  tag: string | null;
}

interface RouteViewRow {
  position: number;
  mirror: boolean;
  ref: string;
  weight: number;
  tag: string | null;
  model: string;
  number: number;
  state: EndpointRouteDto['state'];
  manifest_digest: string | null;
}

/** A tag route shows (and serves) the version its tag points to right now. */
const ROUTE_VIEW = `
  SELECT r.position, r.mirror, r.ref, r.weight, r.tag, m.name AS model,
         coalesce(v.number, tv.number) AS number, coalesce(v.state, tv.state) AS state,
         coalesce(v.manifest_digest, tv.manifest_digest) AS manifest_digest
    FROM endpoint_routes r
    JOIN models m ON m.id = r.model_id
    LEFT JOIN model_versions v ON v.id = r.version_id
    LEFT JOIN tags t ON t.model_id = r.model_id AND t.name = r.tag
    LEFT JOIN model_versions tv ON tv.id = t.version_id
   WHERE r.endpoint_id = $1 ORDER BY r.position`;

function invalidRoutes(message: string, field = 'routes'): WharfError {
  return new WharfError('validation_failed', message, { errors: [{ field, message }] });
}

@Injectable()
export class EndpointsService {
  private readonly plans: StampedCache<EndpointDto>;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ModelsService) private readonly models: ModelsService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(InvalidationService) private readonly invalidation: InvalidationService,
    @Inject(EventsService) private readonly events: EventsService,
    @Inject(WHARF_CONFIG) config: WharfConfig,
  ) {
    this.plans = new StampedCache(config.CACHE_MAX_ENTRIES, config.CACHE_TTL_SECONDS);
  }

  /**
   * Creates or replaces an endpoint. Every route target is checked (and share-locked) in the
   * same transaction that stores it, so a version cannot be archived between the check and
   * the write; anything wrong refuses the whole request and changes nothing.
   */
  async put(project: ProjectContext, actor: Actor, rawName: string, dto: PutEndpointDto): Promise<{ endpoint: EndpointDto; created: boolean }> {
    const name = assertName('endpoint', rawName);
    const total = dto.routes.reduce((sum, route) => sum + route.weight, 0);
    if (total !== WEIGHT_TOTAL) throw invalidRoutes(`route weights are percents and must sum to ${WEIGHT_TOTAL} (they sum to ${total})`);
    return this.dataSource.transaction(async (manager) => {
      const targets = await this.targets(manager, project, dto);

      const [row]: { id: string; created: boolean }[] = await manager.query(
        `INSERT INTO endpoints (project_id, name, description, sticky_header, mirror_percent, created_by, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (project_id, name) DO UPDATE SET
           description = EXCLUDED.description, sticky_header = EXCLUDED.sticky_header,
           mirror_percent = EXCLUDED.mirror_percent, generation = endpoints.generation + 1,
           updated_by = EXCLUDED.updated_by, updated_at = now()
         RETURNING id, (xmax = 0) AS created`,
        [project.id, name, dto.description ?? '', dto.stickyHeader ?? null, dto.mirror?.percent ?? null, actor.principalName],
      );
      await manager.query(`DELETE FROM endpoint_routes WHERE endpoint_id = $1`, [row.id]);
      for (const [position, target] of targets.entries()) {
        await manager.query(
          `INSERT INTO endpoint_routes (endpoint_id, position, mirror, ref, weight, model_id, version_id, tag)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [row.id, position, target.mirror, target.ref, target.weight, target.modelId, target.versionId, target.tag],
        );
      }
      const summary = {
        routes: targets.filter((t) => !t.mirror).map((t) => ({ ref: t.ref, weight: t.weight })),
        mirror: dto.mirror ? { ref: targets[targets.length - 1].ref, percent: dto.mirror.percent } : null,
        stickyHeader: dto.stickyHeader ?? null,
      };
      const action = row.created ? 'endpoint.create' : 'endpoint.update';
      await this.audit.record(manager, actor, { action, target: `${project.name}/endpoints/${name}`, project: project.name, details: summary });
      await this.events.emit(manager, { type: 'endpoint.updated', project, actor: actor.principalName, data: { endpoint: name, ...summary } });
      await this.invalidation.publish(manager, { kind: 'project', projectId: project.id });
      return { endpoint: await this.view(manager, project, name), created: row.created };
    });
  }

  /** The routes (and the mirror, last) checked and resolved, in the request's order. */
  private async targets(manager: EntityManager, project: ProjectContext, dto: PutEndpointDto): Promise<RouteTarget[]> {
    const wanted = dto.routes.map((route, index) => ({ raw: route.ref, weight: route.weight, mirror: false, field: `routes.${index}.ref` }));
    if (dto.mirror) wanted.push({ raw: dto.mirror.ref, weight: 0, mirror: true, field: 'mirror.ref' });
    // Tag rows before version rows, the lock order of TagWriter.lockLatestFirst: the targets
    // naming a tag are resolved (and share-locked) first, else a route to `m@3` and one to
    // `m:latest` deadlock against an archive of version 3.
    const namesTag = wanted.map((route) => parseReference(route.raw, { field: route.field }).selector.kind === 'tag');
    const order = [...wanted.keys()].sort((a, b) => Number(namesTag[b]) - Number(namesTag[a]));
    const targets: RouteTarget[] = new Array(wanted.length);
    for (const index of order) {
      const route = wanted[index];
      targets[index] = await this.target(manager, project, route.raw, route.weight, route.mirror, route.field);
    }
    const refs = targets.filter((target) => !target.mirror).map((target) => target.ref);
    const duplicate = refs.find((ref, index) => refs.indexOf(ref) !== index);
    if (duplicate) throw invalidRoutes(`route ${duplicate} is listed twice; give it one route with the combined weight`);
    return targets;
  }

  async get(project: ProjectContext, rawName: string): Promise<EndpointDto> {
    return this.view(this.dataSource.manager, project, assertName('endpoint', rawName));
  }

  async list(project: ProjectContext, query: ListEndpointsQuery): Promise<EndpointPageDto> {
    const builder = this.dataSource
      .getRepository(Endpoint)
      .createQueryBuilder('endpoint')
      .where('endpoint.project_id = :projectId', { projectId: project.id });
    if (query.prefix) builder.andWhere('endpoint.name LIKE :prefix', { prefix: likePrefix(query.prefix) });
    const page = await paginate(
      builder,
      { sort: 'name', column: 'endpoint.name', idColumn: 'endpoint.id', cast: 'text', descending: false },
      query.cursor,
      query.limit ?? DEFAULT_PAGE_SIZE,
    );
    const items: EndpointDto[] = [];
    for (const endpoint of page.items) items.push(await this.view(this.dataSource.manager, project, endpoint.name, endpoint));
    return { items, nextCursor: page.nextCursor };
  }

  async remove(project: ProjectContext, actor: Actor, rawName: string): Promise<void> {
    const name = assertName('endpoint', rawName);
    await this.dataSource.transaction(async (manager) => {
      const deleted: { id: string }[] = await manager.query(`DELETE FROM endpoints WHERE project_id = $1 AND name = $2 RETURNING id`, [
        project.id,
        name,
      ]);
      if (!deleted[0]) throw this.notFound(project, name);
      await this.audit.record(manager, actor, { action: 'endpoint.delete', target: `${project.name}/endpoints/${name}`, project: project.name });
      await this.invalidation.publish(manager, { kind: 'project', projectId: project.id });
    });
  }

  /**
   * The route for one request. With a key (the `key` parameter, else the endpoint's sticky
   * header) the choice is weighted rendezvous hashing, so the key keeps its route while the
   * weights stay; without one it is weighted random. Answered from the cached endpoint.
   */
  async route(project: ProjectContext, rawName: string, key: string | undefined, stickyKeys: StickyKeySource): Promise<RouteDecisionDto> {
    const stamp = this.invalidation.projectStamp(project.id);
    const plan = await this.plans.getOrLoad(stamp, rawName, () => this.get(project, rawName));
    const stickyKey = key ?? (plan.stickyHeader ? stickyKeys(plan.stickyHeader) : undefined) ?? null;
    const weighted = plan.routes.map((route) => ({ id: route.ref, weight: route.weight }));
    const index = stickyKey === null ? weightedRandom(weighted) : rendezvousPick(stickyKey, weighted);
    const mirror = plan.mirror && mirrored(plan.mirror.weight, stickyKey) ? plan.mirror : null;
    return { endpoint: plan.name, key: stickyKey, route: plan.routes[index], mirror, generation: plan.generation };
  }

  /** Parses and checks one route target; version targets must be ready, tag targets must exist. */
  private async target(
    manager: EntityManager,
    project: ProjectContext,
    raw: string,
    weight: number,
    mirror: boolean,
    field: string,
  ): Promise<RouteTarget> {
    const reference = completeReference(parseReference(raw, { field }), { project: project.name }, field);
    const model = await this.models.find(project, reference.model, manager);
    const version = await versionRepository.findBySelector(manager, project.name, model, reference.selector, true);
    if (reference.selector.kind === 'tag') {
      return { ref: formatReference(reference), weight, mirror, modelId: model.id, versionId: null, tag: reference.selector.tag };
    }
    assertReady(project.name, model, version, field);
    // A digest is stored as what it resolved to now: the route is fixed, like a number.
    const ref = formatReference({ ...reference, selector: { kind: 'number', number: version.number } });
    return { ref, weight, mirror, modelId: model.id, versionId: version.id, tag: null };
  }

  private async view(manager: EntityManager, project: ProjectContext, name: string, known?: Endpoint): Promise<EndpointDto> {
    const endpoint = known ?? (await manager.findOneBy(Endpoint, { projectId: project.id, name }));
    if (!endpoint) throw this.notFound(project, name);
    const rows: RouteViewRow[] = await manager.query(ROUTE_VIEW, [endpoint.id]);
    const routeDto = (row: RouteViewRow, weight: number): EndpointRouteDto => ({
      ref: row.ref,
      weight,
      model: row.model,
      ...(row.tag !== null ? { tag: row.tag } : {}),
      version: row.number,
      reference: `${project.name}/${row.model}@${row.number}`,
      state: row.state,
      manifestDigest: row.manifest_digest,
    });
    const mirror = rows.find((row) => row.mirror);
    return {
      project: project.name,
      name: endpoint.name,
      description: endpoint.description,
      routes: rows.filter((row) => !row.mirror).map((row) => routeDto(row, row.weight)),
      mirror: mirror ? routeDto(mirror, endpoint.mirrorPercent ?? 0) : null,
      stickyHeader: endpoint.stickyHeader,
      generation: endpoint.generation,
      createdBy: endpoint.createdBy,
      updatedBy: endpoint.updatedBy,
      createdAt: endpoint.createdAt.toISOString(),
      updatedAt: endpoint.updatedAt.toISOString(),
    };
  }

  private notFound(project: ProjectContext, name: string): WharfError {
    return new WharfError('endpoint_not_found', `No endpoint "${name}" in project "${project.name}"`);
  }
}
