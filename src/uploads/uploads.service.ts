import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { DataSource, EntityManager } from 'typeorm';
import { AuditEntry, AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { FileDigest, FileHashWorker } from '../common/file-hash-worker';
import { assertFilePath } from '../common/validation/file-path';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { returning } from '../database/returning';
import { BlobsService } from '../files/blobs.service';
import { findVersion } from '../files/version-ref';
import { ModelsService } from '../models/models.service';
import { ARTIFACT_STORE, ArtifactStore, StoreRuleError, StoreUnavailableError } from '../storage/artifact-store';
import { blobKey } from '../storage/store-keys';
import { parseVersionNumber } from '../versions/versions.service';
import { CreateUploadDto, UploadDto, UploadPartDto } from './dto/upload.dto';
import { PartRow, partDto, toDto, UPLOAD_SELECT, UploadRow } from './upload-rows';
import { partSizeOf, planUpload } from './upload-plan';
import { PartSpool, SpoolingStream } from './part-spool';
import { PartSource, RunningDigests } from './running-digests';
import { VerifyingStream } from './verifying-stream';

/** A running digest no part reached for this long is let go (its complete hashes the whole file). */
const RUNNING_DIGEST_IDLE_MS = 10 * 60_000;

export interface PartBody {
  stream: Readable;
  /** The request's Content-Length, if it had one. */
  contentLength: string | undefined;
  /** The optional hex sha256 the client sent for this part. */
  sha256: string | undefined;
}

/**
 * Upload sessions: one per file, parts in any order to any replica, state in Postgres. A file
 * becomes part of its version only after every part, the total size and the file's sha256
 * were checked; the bytes sit under a key unique to the upload until then, so a failed or
 * malicious upload never touches an existing blob.
 */
@Injectable()
export class UploadsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(UploadsService.name);
  private readonly hasher = new FileHashWorker();
  private readonly runningDigests: RunningDigests;
  /** Local copies of parts for the running digest, when the store keeps its parts elsewhere. */
  private spool: PartSpool | null;
  private idleSweep?: NodeJS.Timeout;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ModelsService) private readonly models: ModelsService,
    @Inject(BlobsService) private readonly blobs: BlobsService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {
    this.runningDigests = new RunningDigests(this.hasher, config.UPLOAD_SPOOL_MAX_BYTES);
    this.spool = store.localPartFile || config.UPLOAD_SPOOL_MAX_BYTES === 0 ? null : new PartSpool(path.join(config.dataDir, 'spool'));
  }

  async onModuleInit(): Promise<void> {
    await this.spool?.init().catch((error: Error) => {
      // A read-only DATA_DIR: uploads work the same, complete reads the object back to check it.
      this.logger.warn(`no local copies of parts (${error.message}); complete will download each file from S3 to check its sha256`);
      this.spool = null;
    });
    this.idleSweep = setInterval(() => this.runningDigests.forgetIdle(RUNNING_DIGEST_IDLE_MS), 60_000).unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.idleSweep);
    await this.hasher.close();
    await this.spool?.close();
  }

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
        const version = await findVersion(this.models, manager, project, modelName, number, 'share');
        this.assertDraft(version.state, version.number);
        const target = `${project.name}/${version.modelName}@${version.number}/${path}`;
        const existing = await this.blobs.find(manager, project.id, dto.sha256);
        if (existing) {
          if (existing.size !== dto.size) {
            throw new WharfError('file_digest_mismatch', `This project holds sha256 ${dto.sha256} with ${existing.size} bytes, not ${dto.size}`);
          }
          // Dedupe: the project already has these bytes; the file is attached with none sent.
          await this.blobs.attach(manager, version.id, project.id, path, existing);
          const [{ id }]: { id: string }[] = await manager.query(
            `INSERT INTO uploads (project_id, version_id, path, size, sha256, part_size, part_count, state, storage_key, store_upload_id, created_by, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'complete', $8, '', $9, now()) RETURNING id`,
            [project.id, version.id, path, dto.size, dto.sha256, plan.partSize, plan.partCount, existing.storageKey, actor.principalName],
          );
          await this.audit.record(manager, actor, { action: 'file.attach', target, project: project.name, details: { sha256: dto.sha256, size: dto.size, deduplicated: true } });
          return id;
        }
        const live: { id: string; size: string; sha256: string }[] = await manager.query(
          `SELECT id, size, sha256 FROM uploads WHERE version_id = $1 AND path = $2 AND state IN ('open', 'completing') FOR UPDATE`,
          [version.id, path],
        );
        if (live[0]) {
          // The same file again (a client that lost the answer) resumes the session it has.
          if (Number(live[0].size) === dto.size && live[0].sha256 === dto.sha256) return live[0].id;
          throw new WharfError('upload_conflict', `Upload ${live[0].id} of "${path}" with another size or sha256 is in progress; abort it first`);
        }
        await this.blobs.checkQuotaForUpload(manager, project.id, dto.size);
        const uploadId = randomUUID();
        const key = blobKey(project.id, uploadId);
        const storeUploadId = await this.store.createMultipart(key);
        await manager.query(
          `INSERT INTO uploads (id, project_id, version_id, path, size, sha256, part_size, part_count, state, storage_key, store_upload_id, created_by, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $11, now() + make_interval(secs => $12))`,
          [uploadId, project.id, version.id, path, dto.size, dto.sha256, plan.partSize, plan.partCount, key, storeUploadId, actor.principalName, this.config.UPLOAD_IDLE_TIMEOUT_SECONDS],
        );
        await this.audit.record(manager, actor, {
          action: 'upload.create',
          target,
          project: project.name,
          details: { upload: uploadId, size: dto.size, sha256: dto.sha256, partSize: plan.partSize, partCount: plan.partCount },
        });
        return uploadId;
      }),
    );
    return this.get(project, id);
  }

  async get(project: ProjectContext, id: string, manager: EntityManager = this.dataSource.manager): Promise<UploadDto> {
    const upload = await this.row(manager, project, id);
    const parts: PartRow[] = await manager.query(`SELECT * FROM upload_parts WHERE upload_id = $1 ORDER BY number`, [id]);
    return toDto(project, upload, parts);
  }

  /** Streams one part to the store, checking its size and (when sent) its sha256 on the way. */
  async putPart(project: ProjectContext, actor: Actor, id: string, rawNumber: string, body: PartBody): Promise<UploadPartDto> {
    const upload = await this.row(this.dataSource.manager, project, id);
    const number = /^[1-9][0-9]{0,4}$/.test(rawNumber) ? Number(rawNumber) : NaN;
    if (!(number <= upload.part_count)) {
      throw new WharfError('validation_failed', `Part numbers of this upload run from 1 to ${upload.part_count}`, {
        errors: [{ field: 'number', message: `1 to ${upload.part_count}` }],
      });
    }
    if (upload.state !== 'open') throw new WharfError('upload_not_open', `Upload ${id} is ${upload.state}`);
    const size = Number(upload.size);
    const plan = { partSize: Number(upload.part_size), partCount: upload.part_count };
    const expected = partSizeOf(plan, size, number);
    if (body.stream.readableEnded) {
      // Something (the JSON body parser) already read the body: the part was not sent as bytes.
      throw new WharfError('unsupported_media_type', 'Send parts as application/octet-stream');
    }
    if (body.contentLength === undefined) throw new WharfError('length_required', 'Send the part with a Content-Length header');
    if (!/^[0-9]+$/.test(body.contentLength) || Number(body.contentLength) !== expected) {
      throw new WharfError('part_size_mismatch', `Part ${number} has exactly ${expected} bytes; Content-Length says ${body.contentLength}`);
    }
    const partSha = body.sha256?.toLowerCase();
    if (partSha !== undefined && !/^[0-9a-f]{64}$/.test(partSha)) {
      throw new WharfError('validation_failed', 'The part sha256 header must be 64 hex digits', { errors: [{ field: 'X-Part-Sha256', message: '64 hex digits' }] });
    }
    // A client that went away while the upload's row was read has a body whose 'close' is
    // already past: no listener below would hear of it, and the store would wait for ever.
    if (body.stream.destroyed) throw new WharfError('part_size_mismatch', `Part ${number} ended before its ${expected} bytes: the client went away`);
    const verifier = new VerifyingStream(expected, partSha ?? null, `Part ${number}`);
    let failure: unknown;
    verifier.on('error', (error) => (failure ??= error));
    // A client that goes away mid-part must fail the store's request too, not leave it waiting.
    const clientGone = () => {
      if (!body.stream.readableEnded) verifier.destroy(new WharfError('part_size_mismatch', `Part ${number} ended before its ${expected} bytes`));
    };
    body.stream.once('aborted', clientGone).once('close', clientGone).once('error', clientGone);
    const copier = this.spool?.copier(id, number) ?? null;
    if (copier) {
      // The store reports the copier's failure; before it has attached its own listener (it
      // first awaits its credentials), an 'error' with none would take the process down.
      copier.on('error', () => undefined);
      verifier.once('error', (error) => copier.destroy(error)).pipe(copier);
    }
    const stored = this.store.uploadPart(upload.storage_key, upload.store_upload_id, { number, offset: (number - 1) * plan.partSize, size: expected }, copier ?? verifier);
    body.stream.pipe(verifier);
    let etag: string;
    try {
      ({ etag } = await stored);
    } catch (error) {
      // Drain what is left of the body (bounded by its Content-Length) so the client gets the answer.
      body.stream.unpipe(verifier);
      body.stream.resume();
      verifier.destroy();
      copier?.destroy();
      if (copier) await rm(copier.file, { force: true });
      if (failure instanceof WharfError) throw failure;
      if (error instanceof StoreRuleError && error.code === 'NoSuchUpload') throw new WharfError('upload_not_open', `Upload ${id} is no longer open`);
      throw error;
    }
    // One audit record per part, written with the part's row: who sent which bytes into a session.
    const audit: AuditEntry = {
      action: 'upload.part',
      target: `${project.name}/${upload.model_name}@${upload.version_number}/${upload.path}`,
      project: project.name,
      details: { upload: id, part: number, size: expected, sha256: verifier.digest },
    };
    const recorded = await this.recordPart(actor, audit, id, number, expected, verifier.digest, etag).catch(async (error: unknown) => {
      if (copier) await rm(copier.file, { force: true });
      throw error;
    });
    const source = this.partSource(upload.store_upload_id, number, etag, expected, copier);
    if (source) this.runningDigests.partStored(id, number, etag, source);
    else this.runningDigests.forget(id);
    return recorded;
  }

  /** Where the running digest can read this part: the store's own file, or the spooled copy if it is whole. */
  private partSource(storeUploadId: string, number: number, etag: string, size: number, copier: SpoolingStream | null): PartSource | null {
    if (this.store.localPartFile) return { file: this.store.localPartFile(storeUploadId, number, etag), size, spooled: false };
    if (!copier) return null;
    if (copier.complete) return { file: copier.file, size, spooled: true };
    void rm(copier.file, { force: true });
    return null;
  }

  private recordPart(actor: Actor, audit: AuditEntry, id: string, number: number, expected: number, sha256: string | null, etag: string): Promise<UploadPartDto> {
    return this.dataSource.transaction(async (manager) => {
      const touched = await returning(
        manager,
        `UPDATE uploads SET updated_at = now(), expires_at = now() + make_interval(secs => $2) WHERE id = $1 AND state = 'open' RETURNING id`,
        [id, this.config.UPLOAD_IDLE_TIMEOUT_SECONDS],
      );
      if (touched.length === 0) throw new WharfError('upload_not_open', `Upload ${id} stopped accepting parts while part ${number} was sent`);
      const [part]: PartRow[] = await manager.query(
        `INSERT INTO upload_parts (upload_id, number, size, sha256, etag) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (upload_id, number) DO UPDATE SET size = EXCLUDED.size, sha256 = EXCLUDED.sha256, etag = EXCLUDED.etag, received_at = now()
         RETURNING *`,
        [id, number, expected, sha256, etag],
      );
      await this.audit.record(manager, actor, audit);
      return partDto(part);
    });
  }

  /**
   * Checks that every part is there with its size, assembles them in the store, reads the
   * result once to check the file's size and sha256, and only then makes the file part of its
   * version. Repeating a complete is harmless; a wrong file is deleted and the upload fails.
   */
  async complete(project: ProjectContext, actor: Actor, id: string): Promise<UploadDto> {
    const begun = await this.dataSource.transaction(async (manager) => {
      const upload = await this.row(manager, project, id, true);
      if (upload.state === 'complete') return null;
      if (upload.state !== 'open' && upload.state !== 'completing') throw new WharfError('upload_not_open', `Upload ${id} is ${upload.state}`);
      const parts: PartRow[] = await manager.query(`SELECT * FROM upload_parts WHERE upload_id = $1 ORDER BY number`, [id]);
      const received = new Set(parts.map((part) => part.number));
      const missing = Array.from({ length: upload.part_count }, (_, index) => index + 1).filter((number) => !received.has(number));
      if (missing.length) {
        throw new WharfError('upload_incomplete', `Upload ${id} is missing ${missing.length} of ${upload.part_count} parts`, {
          missingParts: missing.slice(0, 1000),
        });
      }
      await manager.query(
        `UPDATE uploads SET state = 'completing', updated_at = now(), expires_at = now() + make_interval(secs => $2) WHERE id = $1`,
        [id, this.config.UPLOAD_IDLE_TIMEOUT_SECONDS],
      );
      return { upload, parts };
    });
    if (!begun) return this.get(project, id);
    const { upload, parts } = begun;
    const size = Number(upload.size);
    // Taken before the parts are assembled: assembling moves the part files it was read from.
    const running = await this.runningDigests.take(id, parts);

    try {
      await this.store.completeMultipart(
        upload.storage_key,
        upload.store_upload_id,
        parts.map((part) => ({ number: part.number, size: Number(part.size), etag: part.etag })),
      );
    } catch (error) {
      // An outage decides nothing: the upload stays `completing` and a retried complete goes on.
      if (error instanceof StoreUnavailableError) throw error;
      // A retried complete finds the store's upload already assembled.
      const assembled = error instanceof StoreRuleError && error.code === 'NoSuchUpload' ? await this.store.stat(upload.storage_key) : null;
      if (!assembled) {
        await this.fail(id, upload.storage_key, `the store refused to assemble the parts: ${(error as Error).message}`);
        throw error instanceof StoreRuleError ? new WharfError('upload_incomplete', `The store refused the parts: ${error.message}`) : error;
      }
    }

    const { sha256: digest, bytes } = running ?? (await this.hashObject(upload.storage_key));
    if (bytes !== size || digest !== upload.sha256) {
      await this.fail(id, upload.storage_key, `the assembled file has ${bytes} bytes and sha256 ${digest}`);
      throw new WharfError(
        'file_digest_mismatch',
        `The assembled file has ${bytes} bytes and sha256 ${digest}; the upload was created for ${size} bytes and sha256 ${upload.sha256}. Nothing was kept.`,
      );
    }

    let redundantKey: string | null = null;
    try {
      await this.dataSource.transaction(async (manager) => {
        const current = await this.row(manager, project, id, true);
        if (current.state !== 'completing') throw new WharfError('upload_not_open', `Upload ${id} is ${current.state}`);
        const state: { state: string }[] = current.version_id
          ? await manager.query(`SELECT state FROM model_versions WHERE id = $1 FOR SHARE`, [current.version_id])
          : [];
        if (!state[0]) throw new WharfError('version_not_found', `The version of upload ${id} was deleted`);
        this.assertDraft(state[0].state, current.version_number ?? 0);
        const { blob, created } = await this.blobs.register(manager, project.id, upload.sha256, size, upload.storage_key);
        if (!created) redundantKey = upload.storage_key;
        await this.blobs.attach(manager, current.version_id!, project.id, upload.path, blob);
        await manager.query(`UPDATE uploads SET state = 'complete', updated_at = now() WHERE id = $1`, [id]);
        await this.audit.record(manager, actor, {
          action: 'upload.complete',
          target: `${project.name}/${current.model_name}@${current.version_number}/${upload.path}`,
          project: project.name,
          details: { upload: id, sha256: upload.sha256, size, deduplicated: !created },
        });
      });
    } catch (error) {
      if (error instanceof WharfError) await this.fail(id, upload.storage_key, error.detail);
      throw error;
    }
    if (redundantKey) await this.store.delete(redundantKey).catch(() => undefined);
    return this.get(project, id);
  }

  async abort(project: ProjectContext, actor: Actor, id: string): Promise<void> {
    const upload = await this.dataSource.transaction(async (manager) => {
      const row = await this.row(manager, project, id, true);
      if (row.state !== 'open' && row.state !== 'completing') throw new WharfError('upload_not_open', `Upload ${id} is ${row.state}`);
      await manager.query(`UPDATE uploads SET state = 'aborted', updated_at = now() WHERE id = $1`, [id]);
      await this.audit.record(manager, actor, {
        action: 'upload.abort',
        target: `${project.name}/${row.model_name}@${row.version_number}/${row.path}`,
        project: project.name,
        details: { upload: id },
      });
      return row;
    });
    this.runningDigests.forget(id);
    // Garbage collection retries whatever fails here.
    await this.store.abortMultipart(upload.storage_key, upload.store_upload_id).catch(() => undefined);
    await this.store.delete(upload.storage_key).catch(() => undefined);
  }

  /**
   * Marks a completing upload failed and deletes its bytes. Only the call that moves it out of
   * `completing` deletes: a concurrent complete that already succeeded keeps its blob.
   */
  private async fail(id: string, storageKey: string, reason: string): Promise<void> {
    const failed = await returning(
      this.dataSource,
      `UPDATE uploads SET state = 'failed', failure = $2, updated_at = now() WHERE id = $1 AND state = 'completing' RETURNING id`,
      [id, reason],
    );
    if (failed.length === 0) return;
    await this.store.delete(storageKey).catch((error: Error) => this.logger.warn(`could not delete ${storageKey}: ${error.message}`));
  }

  /** Reads the assembled file once: on the hashing thread when it lies on local disk. */
  private async hashObject(key: string): Promise<FileDigest> {
    const extents = await this.store.localExtents?.(key);
    if (extents) {
      const id = `object:${randomUUID()}`;
      for (const extent of extents) this.hasher.update(id, extent);
      return this.hasher.digest(id);
    }
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of await this.store.get(key)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return { sha256: hash.digest('hex'), bytes };
  }

  private assertDraft(state: string, number: number): void {
    if (state !== 'draft') throw new WharfError('version_immutable', `Version ${number} is ${state}; files can only be added to a draft`);
  }

  private async row(manager: EntityManager, project: ProjectContext, id: string, lock = false): Promise<UploadRow> {
    const rows: UploadRow[] = await manager.query(`${UPLOAD_SELECT} WHERE u.id = $1 AND u.project_id = $2 ${lock ? 'FOR UPDATE OF u' : ''}`, [id, project.id]);
    if (!rows[0]) throw new WharfError('upload_not_found', `No upload "${id}"`);
    return rows[0];
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
