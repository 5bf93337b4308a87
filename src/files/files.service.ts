import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { assertFilePath } from '../common/validation/file-path';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { ModelsService } from '../models/models.service';
import { ARTIFACT_STORE, ArtifactStore, ByteRange, FileExtent, StoreNotFoundError } from '../storage/artifact-store';
import { Model } from '../models/model.entity';
import { blobKey } from '../storage/store-keys';
import { parseVersionNumber, refSelector } from '../common/validation/reference';
import { versionFileRepository } from '../versions/version-file.repository';
import { versionRepository, VersionRow } from '../versions/version.repository';
import { BlobsService } from '../blobs/blobs.service';
import { FileDto, FileListDto } from './dto/file.dto';
import { StoredFile } from './download-response';
import { deleteAll, receiveForm } from './form-receiver';

/** The database lists the file but the store lost its bytes (a bucket that came back empty). */
function contentMissing(path: string): WharfError {
  return new WharfError('file_content_missing', `The bytes of "${path}" are missing from the object store; upload the file again`);
}

/** At most this many files in one form upload request. */
const MAX_FORM_FILES = 1000;

@Injectable()
export class FilesService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ModelsService) private readonly models: ModelsService,
    @Inject(BlobsService) private readonly blobs: BlobsService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  async list(project: ProjectContext, modelName: string, ref: string): Promise<FileListDto> {
    const { model, version } = await this.versionAt(project, modelName, ref);
    return {
      project: project.name,
      model: model.name,
      version: version.number,
      state: version.state,
      manifestDigest: await versionRepository.manifestDigest(this.dataSource, version.id),
      items: await versionFileRepository.list(this.dataSource, version.id),
    };
  }

  /** The file a download names; the download response decides the HTTP (ETag, Range, 304, 416). */
  async findFile(project: ProjectContext, modelName: string, ref: string, rawPath: string): Promise<StoredFile> {
    const path = assertFilePath(rawPath);
    const { model, version } = await this.versionAt(project, modelName, ref);
    const file = await versionFileRepository.findWithBlob(this.dataSource, version.id, path);
    if (!file) throw new WharfError('file_not_found', `Version ${version.number} of "${project.name}/${model.name}" has no file "${path}"`);
    return { ...file, replaceable: version.state === 'draft' };
  }

  async presignedUrl(file: StoredFile): Promise<string | null> {
    if (!this.config.S3_PRESIGNED_DOWNLOADS || !this.store.presignedGet) return null;
    return this.store.presignedGet(file.storageKey, this.config.S3_PRESIGNED_TTL_SECONDS, file.path.split('/').pop()!);
  }

  async assertStored(file: StoredFile): Promise<void> {
    if (!(await this.store.stat(file.storageKey))) throw contentMissing(file.path);
  }

  /** The bytes: where they lie on local disk (the fs driver), else a stream from the store. */
  async open(file: StoredFile, range: ByteRange | undefined): Promise<Readable | FileExtent[]> {
    const extents = await this.store.localExtents?.(file.storageKey, range);
    if (extents) return extents;
    try {
      return await this.store.get(file.storageKey, range);
    } catch (error) {
      throw error instanceof StoreNotFoundError ? contentMissing(file.path) : error;
    }
  }

  /**
   * multipart/form-data upload: each file part (its filename is the path in the version) goes
   * straight to the store while its sha256 is computed, then all of them are attached in one
   * transaction. Meant for small files, browsers and `curl -F`. All or nothing: a refused form
   * leaves no file, no blob, no object and no quota use behind.
   */
  async formUpload(project: ProjectContext, actor: Actor, modelName: string, rawVersion: string, headers: IncomingHttpHeaders, body: Readable): Promise<FileDto[]> {
    const number = parseVersionNumber(rawVersion);
    if (!String(headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data')) {
      throw new WharfError('unsupported_media_type', 'Send files as multipart/form-data (or use upload sessions for large files)');
    }
    const version = (await this.versionAt(project, modelName, number)).version;
    if (version.state !== 'draft') throw new WharfError('version_immutable', `Version ${number} is ${version.state}; files can only be added to a draft`);
    // On failure receiveForm has already removed what it stored; from here on, this method does.
    const stored = await receiveForm(this.store, headers, body, { maxFileSize: this.config.MAX_FILE_SIZE, maxFiles: MAX_FORM_FILES }, () =>
      blobKey(project.id, randomUUID()),
    );
    try {
      if (stored.length === 0) throw new WharfError('validation_failed', 'The form holds no file', { errors: [{ field: 'file', message: 'at least one file part' }] });
      const redundant: string[] = [];
      await this.dataSource.transaction(async (manager) => {
        const { model, version: locked } = await this.versionAt(project, modelName, number, manager);
        if (locked.state !== 'draft') throw new WharfError('version_immutable', `Version ${number} is ${locked.state}; files can only be added to a draft`);
        for (const file of stored) {
          const { blob, created } = await this.blobs.register(manager, project.id, file.sha256, file.size, file.key);
          if (!created) redundant.push(file.key);
          await versionFileRepository.attach(manager, locked.id, project.id, file.path, blob);
        }
        await this.audit.record(manager, actor, {
          action: 'file.upload',
          target: `${project.name}/${model.name}@${locked.number}`,
          project: project.name,
          details: { files: stored.map(({ path, size, sha256 }) => ({ path, size, sha256 })) },
        });
      });
      await Promise.all(redundant.map((key) => this.store.delete(key).catch(() => undefined)));
      return stored.map(({ path, size, sha256 }) => ({ path, size, sha256 }));
    } catch (error) {
      await deleteAll(this.store, stored.map((file) => file.key));
      throw error;
    }
  }

  /**
   * The version a `{ref}` (number, tag or digest) or a `{version}` number names. With a
   * transaction's manager it is share-locked: a commit (which locks the row for update) waits
   * for files being added, and they wait for it.
   */
  private async versionAt(project: ProjectContext, modelName: string, ref: string | number, manager?: EntityManager): Promise<{ model: Model; version: VersionRow }> {
    const model = await this.models.find(project, modelName, manager ?? this.dataSource.manager);
    const selector = typeof ref === 'number' ? { kind: 'number' as const, number: ref } : refSelector(ref, { project: project.name, model: model.name });
    return { model, version: await versionRepository.findBySelector(manager ?? this.dataSource, project.name, model, selector, manager !== undefined) };
  }
}
