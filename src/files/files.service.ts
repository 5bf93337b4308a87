import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { assertFilePath } from '../common/validation/file-path';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { ModelsService } from '../models/models.service';
import { ARTIFACT_STORE, ArtifactStore, ByteRange, FileExtent, StoreNotFoundError } from '../storage/artifact-store';
import { blobKey } from '../storage/store-keys';
import { parseVersionNumber } from '../versions/versions.service';
import { ProjectStorageDto } from './dto/storage.dto';
import { BlobsService } from './blobs.service';
import { FileDto, FileListDto } from './dto/file.dto';
import { etagMatches, parseRange } from './range';
import { findVersion, resolveVersionRef } from './version-ref';
import { deleteAll, receiveForm } from './form-receiver';

/** What a download answers; the controller writes it out. */
export interface Download {
  status: 200 | 206 | 302 | 304 | 416;
  headers: Record<string, string>;
  /** The bytes: a stream, or where they lie on local disk (the fs driver). */
  body?: Readable | FileExtent[];
  /** Why there are no bytes (416): answered as a problem, with `headers` still set. */
  problem?: WharfError;
}

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

  /** The project's storage use, reservations and quota. */
  storageUsage(project: ProjectContext): Promise<ProjectStorageDto> {
    return this.blobs.usage(this.dataSource.manager, project);
  }

  async list(project: ProjectContext, modelName: string, ref: string): Promise<FileListDto> {
    const version = await resolveVersionRef(this.models, this.dataSource.manager, project, modelName, ref);
    const rows: { path: string; size: string; sha256: string; manifest_digest: string | null }[] = await this.dataSource.query(
      `SELECT f.path, f.size, f.sha256 FROM version_files f WHERE f.version_id = $1 ORDER BY f.path COLLATE "C"`,
      [version.id],
    );
    const [{ manifest_digest }]: { manifest_digest: string | null }[] = await this.dataSource.query(
      `SELECT manifest_digest FROM model_versions WHERE id = $1`,
      [version.id],
    );
    return {
      project: project.name,
      model: version.modelName,
      version: version.number,
      state: version.state,
      manifestDigest: manifest_digest,
      items: rows.map((row) => ({ path: row.path, size: Number(row.size), sha256: row.sha256 })),
    };
  }

  /** A file's bytes, streamed, with Range, ETag (its sha256) and If-None-Match. */
  async download(
    project: ProjectContext,
    modelName: string,
    ref: string,
    rawPath: string,
    request: { method: string; range?: string; ifNoneMatch?: string },
  ): Promise<Download> {
    const path = assertFilePath(rawPath);
    const version = await resolveVersionRef(this.models, this.dataSource.manager, project, modelName, ref);
    const rows: { size: string; sha256: string; storage_key: string }[] = await this.dataSource.query(
      `SELECT f.size, f.sha256, b.storage_key FROM version_files f
         JOIN blobs b ON b.project_id = f.project_id AND b.sha256 = f.sha256
        WHERE f.version_id = $1 AND f.path = $2`,
      [version.id, path],
    );
    if (!rows[0]) throw new WharfError('file_not_found', `Version ${version.number} of "${project.name}/${version.modelName}" has no file "${path}"`);
    const size = Number(rows[0].size);
    const etag = `"${rows[0].sha256}"`;
    const headers: Record<string, string> = {
      ETag: etag,
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
      'Cache-Control': version.state === 'draft' ? 'no-cache' : 'private, max-age=31536000, immutable',
      'X-Content-Sha256': rows[0].sha256,
    };
    if (etagMatches(request.ifNoneMatch, etag)) return { status: 304, headers };
    const range = parseRange(request.range, size);
    if (range === 'unsatisfiable') {
      return {
        status: 416,
        headers: { 'Content-Range': `bytes */${size}` },
        problem: new WharfError('range_not_satisfiable', `${request.range} asks for bytes outside the ${size}-byte file`, { size }),
      };
    }
    if (request.method === 'GET' && this.config.S3_PRESIGNED_DOWNLOADS && this.store.presignedGet) {
      const name = path.split('/').pop()!;
      const location = await this.store.presignedGet(rows[0].storage_key, this.config.S3_PRESIGNED_TTL_SECONDS, name);
      return { status: 302, headers: { ETag: etag, Location: location, 'Cache-Control': 'no-store' } };
    }
    const span: ByteRange = range ?? { start: 0, end: size - 1 };
    const length = size === 0 ? 0 : span.end - span.start + 1;
    headers['Content-Length'] = String(length);
    if (range) headers['Content-Range'] = `bytes ${span.start}-${span.end}/${size}`;
    const status = range ? 206 : 200;
    const key = rows[0].storage_key;
    // HEAD asks the store too: it must not promise bytes that a GET would then fail to send.
    if (request.method === 'HEAD' || length === 0) {
      if (!(await this.store.stat(key))) throw contentMissing(path);
      return { status, headers };
    }
    const extents = await this.store.localExtents?.(key, range);
    if (extents) return { status, headers, body: extents };
    try {
      return { status, headers, body: await this.store.get(key, range) };
    } catch (error) {
      throw error instanceof StoreNotFoundError ? contentMissing(path) : error;
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
    const version = await findVersion(this.models, this.dataSource.manager, project, modelName, number);
    if (version.state !== 'draft') throw new WharfError('version_immutable', `Version ${number} is ${version.state}; files can only be added to a draft`);
    // On failure receiveForm has already removed what it stored; from here on, this method does.
    const stored = await receiveForm(this.store, headers, body, { maxFileSize: this.config.MAX_FILE_SIZE, maxFiles: MAX_FORM_FILES }, () =>
      blobKey(project.id, randomUUID()),
    );
    try {
      if (stored.length === 0) throw new WharfError('validation_failed', 'The form holds no file', { errors: [{ field: 'file', message: 'at least one file part' }] });
      const redundant: string[] = [];
      await this.dataSource.transaction(async (manager) => {
        const locked = await findVersion(this.models, manager, project, modelName, number, 'share');
        if (locked.state !== 'draft') throw new WharfError('version_immutable', `Version ${number} is ${locked.state}; files can only be added to a draft`);
        for (const file of stored) {
          const { blob, created } = await this.blobs.register(manager, project.id, file.sha256, file.size, file.key);
          if (!created) redundant.push(file.key);
          await this.blobs.attach(manager, locked.id, project.id, file.path, blob);
        }
        await this.audit.record(manager, actor, {
          action: 'file.upload',
          target: `${project.name}/${locked.modelName}@${locked.number}`,
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
}
