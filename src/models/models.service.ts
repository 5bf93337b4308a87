import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { EventsService } from '../events/events.service';
import { Page, paginate } from '../common/pagination/cursor';
import { likePrefix, parseSort } from '../common/pagination/sort';
import { applyLabelSelector, parseLabelSelector } from '../common/validation/labels';
import { assertName } from '../common/validation/names';
import { CreateModelDto, ListModelsQuery, ModelDto, UpdateModelDto } from './dto/model.dto';
import { endpointRouteRepository } from '../endpoints/endpoint-route.repository';
import { Model } from './model.entity';

const MODEL_SORTS = {
  name: { column: 'model.name', cast: 'text' },
  createdAt: { column: 'model.created_at', cast: 'timestamptz' },
  updatedAt: { column: 'model.updated_at', cast: 'timestamptz' },
};

export function modelDto(project: ProjectContext, model: Model): ModelDto {
  return {
    project: project.name,
    name: model.name,
    description: model.description,
    labels: model.labels,
    versionCount: model.nextVersion - 1,
    createdBy: model.createdBy,
    createdAt: model.createdAt.toISOString(),
    updatedAt: model.updatedAt.toISOString(),
  };
}

@Injectable()
export class ModelsService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(EventsService) private readonly events: EventsService,
  ) {}

  /** The model named in a route, or 404. Pass a transaction's manager to read inside it. */
  async find(project: ProjectContext, name: string, manager: EntityManager = this.dataSource.manager): Promise<Model> {
    const model = await manager.findOneBy(Model, { projectId: project.id, name: assertName('model', name) });
    if (!model) throw new WharfError('model_not_found', `No model "${name}" in project "${project.name}"`);
    return model;
  }

  async create(project: ProjectContext, actor: Actor, dto: CreateModelDto): Promise<ModelDto> {
    const name = assertName('model', dto.name, 'name');
    return this.dataSource.transaction(async (manager) => {
      const inserted: { id: string }[] = await manager.query(
        `INSERT INTO models (project_id, name, description, labels, created_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (project_id, name) DO NOTHING RETURNING id`,
        [project.id, name, dto.description ?? '', dto.labels ?? {}, actor.principalName],
      );
      if (inserted.length === 0) throw new WharfError('model_exists', `Model "${project.name}/${name}" already exists`);
      await this.audit.record(manager, actor, {
        action: 'model.create',
        target: `${project.name}/${name}`,
        project: project.name,
        details: { description: dto.description ?? '', labels: dto.labels ?? {} },
      });
      await this.events.emit(manager, {
        type: 'model.created',
        project,
        actor: actor.principalName,
        data: { model: name, reference: `${project.name}/${name}`, createdBy: actor.principalName },
      });
      return modelDto(project, await manager.findOneByOrFail(Model, { id: inserted[0].id }));
    });
  }

  async list(project: ProjectContext, query: ListModelsQuery): Promise<Page<ModelDto>> {
    const order = parseSort(query.sort, MODEL_SORTS, 'name', 'model.id');
    const selector = parseLabelSelector(query.label);
    const builder = this.dataSource
      .getRepository(Model)
      .createQueryBuilder('model')
      .where('model.project_id = :projectId', { projectId: project.id });
    if (query.prefix) builder.andWhere('model.name LIKE :prefix', { prefix: likePrefix(query.prefix) });
    applyLabelSelector(builder, 'model.labels', selector);
    const page = await paginate(builder, order, query.cursor, query.limit);
    return { items: page.items.map((model) => modelDto(project, model)), nextCursor: page.nextCursor };
  }

  async get(project: ProjectContext, name: string): Promise<ModelDto> {
    return modelDto(project, await this.find(project, name));
  }

  async update(project: ProjectContext, actor: Actor, name: string, dto: UpdateModelDto): Promise<ModelDto> {
    return this.dataSource.transaction(async (manager) => {
      const model = await this.find(project, name, manager);
      const changes: Partial<Model> = {};
      if (dto.description !== undefined) changes.description = dto.description;
      if (dto.labels !== undefined) changes.labels = dto.labels;
      if (Object.keys(changes).length) await manager.update(Model, { id: model.id }, changes);
      await this.audit.record(manager, actor, {
        action: 'model.update',
        target: `${project.name}/${model.name}`,
        project: project.name,
        details: { ...changes },
      });
      return modelDto(project, await manager.findOneByOrFail(Model, { id: model.id }));
    });
  }

  /** Deletes a model and all its versions. */
  async remove(project: ProjectContext, actor: Actor, name: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const model = await this.find(project, name, manager);
      await this.assertUnrouted(manager, project, model);
      await manager.delete(Model, { id: model.id });
      await this.audit.record(manager, actor, {
        action: 'model.delete',
        target: `${project.name}/${model.name}`,
        project: project.name,
        details: { versions: model.nextVersion - 1 },
      });
    });
  }

  /** Endpoints route to a model's versions and tags; those must be changed first. */
  private async assertUnrouted(manager: EntityManager, project: ProjectContext, model: Model): Promise<void> {
    const endpoints = await endpointRouteRepository.endpointsRoutingToModel(manager, model.id);
    if (endpoints.length) {
      throw new WharfError('model_in_use', `Endpoint(s) ${endpoints.map((endpoint) => `"${endpoint}"`).join(', ')} route to model "${project.name}/${model.name}"`, {
        endpoints,
      });
    }
  }

  /**
   * Takes the model's next version number. It is an UPDATE of the model row, so concurrent
   * creations queue on its lock; a failed insert rolls the counter back, so numbers stay gapless.
   */
  async takeNextVersionNumber(manager: EntityManager, model: Model): Promise<number> {
    const [rows]: [{ number: number }[], number] = await manager.query(
      `UPDATE models SET next_version = next_version + 1, updated_at = now() WHERE id = $1 RETURNING next_version - 1 AS number`,
      [model.id],
    );
    return rows[0].number;
  }
}
