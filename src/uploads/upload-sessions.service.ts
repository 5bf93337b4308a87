import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { UploadOwners } from '../auth/upload-owners';
import { BlobRow, BlobsService } from '../blobs/blobs.service';
import { WharfError } from '../common/errors/wharf-error';
import { assertFilePath } from '../common/validation/file-path';
import { parseVersionNumber } from '../common/validation/reference';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { ModelsService } from '../models/models.service';
import { StorageQuota } from '../quota/storage-quota.service';
import { ARTIFACT_STORE, ArtifactStore } from '../storage/artifact-store';
import { blobKey } from '../storage/store-keys';
import { versionFileRepository } from '../versions/version-file.repository';
import { versionRepository } from '../versions/version.repository';
import { CreateUploadDto, UploadDto } from './dto/upload.dto';
import { UploadDigests } from './upload-digests';
import { UploadPlan, planUpload } from './upload-plan';
import { uploadRepository } from './upload.repository';
import { assertDraft, findUpload, toDto } from './upload-rows';

/** What opening a session needs to know, once the version is locked. */
interface SessionRequest {
  project: ProjectContext;
  actor: Actor;
  versionId: string;
  path: string;
  dto: CreateUploadDto;
  plan: UploadPlan;
  target: string;
}

/**
 * Upload sessions: one per file, parts in any order to any replica, state in Postgres. A file
 * becomes part of its version only after every part, the total size and the file's sha256
 * were checked; the bytes sit under a key unique to the upload until then, so a failed or
 * malicious upload never touches an existing blob. This service opens, shows and aborts them.
 */
@Injectable()
export class UploadSessions implements UploadOwners {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ModelsService) private readonly models: ModelsService,
    @Inject(BlobsService) private readonly blobs: BlobsService,
    @Inject(StorageQuota) private readonly quota: StorageQuota,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(UploadDigests) private readonly digests: UploadDigests,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  async create(project: ProjectContext, actor: Actor, modelName: string, rawVersion: string, dto: CreateUploadDto): Promise<UploadDto> {
    const path = assertFilePath(dto.path);
    const number = parseVersionNumber(rawVersion);
    if (dto.size > this.config.MAX_FILE_SIZE) {
      throw new WharfError('file_too_large', `The file has ${dto.size} bytes; at most ${this.config.MAX_FILE_SIZE} are allowed`, {
        errors: [{ field: 'size', message: `at most ${this.config.MAX_FILE_SIZE}` }],
      });
    }
    const plan = planUpload(dto.size, this.config.UPLOAD_PART_SIZE);
    // Two replicas creating the same file's session at once: the loser of the unique index
    // runs again and finds the winner's session.
    const id = await retryOnUniqueViolation(() =>
      this.dataSource.transaction(async (manager) => {
        const model = await this.models.find(project, modelName, manager);
        const version = await versionRepository.findBySelector(manager, project.name, model, { kind: 'number', number }, true);
        assertDraft(version.state, version.number);
        const request = { project, actor, versionId: version.id, path, dto, plan, target: `${project.name}/${model.name}@${version.number}/${path}` };
        const existing = await this.blobs.find(manager, project.id, dto.sha256);
        return existing ? this.attachExisting(manager, request, existing) : this.open(manager, request);
      }),
    );
    return this.get(project, id);
  }

  async get(project: ProjectContext, id: string, manager: EntityManager = this.dataSource.manager): Promise<UploadDto> {
    const upload = await findUpload(manager, project, id);
    return toDto(project, upload, await uploadRepository.parts(manager, id));
  }

  projectNameOf(uploadId: string): Promise<string | null> {
    return uploadRepository.projectNameOf(this.dataSource, uploadId);
  }

  async abort(project: ProjectContext, actor: Actor, id: string): Promise<void> {
    const upload = await this.dataSource.transaction(async (manager) => {
      const row = await findUpload(manager, project, id, true);
      if (row.state !== 'open' && row.state !== 'completing') throw new WharfError('upload_not_open', `Upload ${id} is ${row.state}`);
      await uploadRepository.setState(manager, id, 'aborted');
      await this.audit.record(manager, actor, {
        action: 'upload.abort',
        target: `${project.name}/${row.model_name}@${row.version_number}/${row.path}`,
        project: project.name,
        details: { upload: id },
      });
      return row;
    });
    this.digests.running.forget(id);
    // Garbage collection retries whatever fails here.
    await this.store.abortMultipart(upload.storage_key, upload.store_upload_id).catch(() => undefined);
    await this.store.delete(upload.storage_key).catch(() => undefined);
  }

  /** Dedupe: the project already has these bytes; the file is attached with none sent. */
  private async attachExisting(manager: EntityManager, request: SessionRequest, existing: BlobRow): Promise<string> {
    const { project, actor, dto, plan } = request;
    if (existing.size !== dto.size) {
      throw new WharfError('file_digest_mismatch', `This project holds sha256 ${dto.sha256} with ${existing.size} bytes, not ${dto.size}`);
    }
    await versionFileRepository.attach(manager, request.versionId, project.id, request.path, existing);
    const id = await uploadRepository.insert(
      manager,
      { ...this.newUpload(request), id: randomUUID(), storageKey: existing.storageKey, storeUploadId: '', partSize: plan.partSize },
      'complete',
      0,
    );
    await this.audit.record(manager, actor, {
      action: 'file.attach',
      target: request.target,
      project: project.name,
      details: { sha256: dto.sha256, size: dto.size, deduplicated: true },
    });
    return id;
  }

  /** A new session, or the one already receiving the same file (a client that lost the answer resumes it). */
  private async open(manager: EntityManager, request: SessionRequest): Promise<string> {
    const { project, actor, dto, plan, path } = request;
    const live = await uploadRepository.findLiveForPath(manager, request.versionId, path);
    if (live) {
      if (Number(live.size) === dto.size && live.sha256 === dto.sha256) return live.id;
      throw new WharfError('upload_conflict', `Upload ${live.id} of "${path}" with another size or sha256 is in progress; abort it first`);
    }
    await this.quota.checkUpload(manager, project.id, dto.size);
    const uploadId = randomUUID();
    const key = blobKey(project.id, uploadId);
    const storeUploadId = await this.store.createMultipart(key);
    await uploadRepository.insert(
      manager,
      { ...this.newUpload(request), id: uploadId, storageKey: key, storeUploadId },
      'open',
      this.config.UPLOAD_IDLE_TIMEOUT_SECONDS,
    );
    await this.audit.record(manager, actor, {
      action: 'upload.create',
      target: request.target,
      project: project.name,
      details: { upload: uploadId, size: dto.size, sha256: dto.sha256, partSize: plan.partSize, partCount: plan.partCount },
    });
    return uploadId;
  }

  private newUpload(request: SessionRequest) {
    const { project, actor, dto, plan } = request;
    return {
      projectId: project.id,
      versionId: request.versionId,
      path: request.path,
      size: dto.size,
      sha256: dto.sha256,
      partSize: plan.partSize,
      partCount: plan.partCount,
      createdBy: actor.principalName,
    };
  }
}

async function retryOnUniqueViolation<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as { driverError?: { code?: string } }).driverError?.code;
    if (code !== '23505') throw error;
    return work();
  }
}
