import { Inject, Injectable } from '@nestjs/common';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { AuditEntry, AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { Queryable } from '../database/queryable';
import { ARTIFACT_STORE, ArtifactStore, StoreRuleError } from '../storage/artifact-store';
import { UploadPartDto } from './dto/upload.dto';
import { SpoolingStream } from './part-spool';
import { PartSource } from './running-digests';
import { UploadDigests } from './upload-digests';
import { partSizeOf } from './upload-plan';
import { uploadRepository, UploadRow } from './upload.repository';
import { findUpload, partDto, uploadTarget } from './upload-rows';
import { VerifyingStream } from './verifying-stream';

export interface PartBody {
  stream: Readable;
  /** The request's Content-Length as a number; NaN when it was not a decimal number, undefined when absent. */
  contentLength: number | undefined;
  /** The optional hex sha256 the client sent for this part. */
  sha256: string | undefined;
}

/** A part that passed every check before its bytes flow. */
interface AcceptedPart {
  upload: UploadRow;
  number: number;
  size: number;
  sha256: string | null;
}

/** Receives the parts of upload sessions: streamed to the store, size and digest checked on the way. */
@Injectable()
export class PartReceiver {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(UploadDigests) private readonly digests: UploadDigests,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  /** Streams one part to the store, checking its size and (when sent) its sha256 on the way. */
  async putPart(project: ProjectContext, actor: Actor, id: string, rawNumber: string, body: PartBody): Promise<UploadPartDto> {
    const part = this.accept(await this.row(this.dataSource, project, id), id, rawNumber, body);
    const { number, size: expected, upload } = part;
    const verifier = new VerifyingStream(expected, part.sha256, `Part ${number}`);
    let failure: unknown;
    verifier.on('error', (error) => (failure ??= error));
    // A client that goes away mid-part must fail the store's request too, not leave it waiting.
    const clientGone = () => {
      if (!body.stream.readableEnded) verifier.destroy(new WharfError('part_size_mismatch', `Part ${number} ended before its ${expected} bytes`));
    };
    body.stream.once('aborted', clientGone).once('close', clientGone).once('error', clientGone);
    const copier = this.digests.spool?.copier(id, number) ?? null;
    if (copier) {
      // The store reports the copier's failure; before it has attached its own listener (it
      // first awaits its credentials), an 'error' with none would take the process down.
      copier.on('error', () => undefined);
      verifier.once('error', (error) => copier.destroy(error)).pipe(copier);
    }
    const offset = (number - 1) * Number(upload.part_size);
    const stored = this.store.uploadPart(upload.storage_key, upload.store_upload_id, { number, offset, size: expected }, copier ?? verifier);
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
      target: uploadTarget(project, upload),
      project: project.name,
      details: { upload: id, part: number, size: expected, sha256: verifier.digest },
    };
    const recorded = await this.recordPart(actor, audit, id, number, expected, verifier.digest, etag).catch(async (error: unknown) => {
      if (copier) await rm(copier.file, { force: true });
      throw error;
    });
    const source = this.partSource(upload.store_upload_id, number, etag, expected, copier);
    if (source) this.digests.running.partStored(id, number, etag, source);
    else this.digests.running.forget(id);
    return recorded;
  }

  /** The upload a part is sent to; a method of its own so tests can hold a PUT at this step. */
  private row(db: Queryable, project: ProjectContext, id: string): Promise<UploadRow> {
    return findUpload(db, project, id);
  }

  /** Refuses a part before any of its bytes are read: wrong number, closed session, wrong length or digest form. */
  private accept(upload: UploadRow, id: string, rawNumber: string, body: PartBody): AcceptedPart {
    const number = /^[1-9][0-9]{0,4}$/.test(rawNumber) ? Number(rawNumber) : NaN;
    if (!(number <= upload.part_count)) {
      throw new WharfError('validation_failed', `Part numbers of this upload run from 1 to ${upload.part_count}`, {
        errors: [{ field: 'number', message: `1 to ${upload.part_count}` }],
      });
    }
    if (upload.state !== 'open') throw new WharfError('upload_not_open', `Upload ${id} is ${upload.state}`);
    const expected = partSizeOf({ partSize: Number(upload.part_size), partCount: upload.part_count }, Number(upload.size), number);
    if (body.stream.readableEnded) {
      // Something (the JSON body parser) already read the body: the part was not sent as bytes.
      throw new WharfError('unsupported_media_type', 'Send parts as application/octet-stream');
    }
    if (body.contentLength === undefined) throw new WharfError('length_required', 'Send the part with a Content-Length header');
    if (body.contentLength !== expected) {
      const said = Number.isNaN(body.contentLength) ? 'something else' : body.contentLength;
      throw new WharfError('part_size_mismatch', `Part ${number} has exactly ${expected} bytes; Content-Length says ${said}`);
    }
    const sha256 = body.sha256?.toLowerCase();
    if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) {
      throw new WharfError('validation_failed', 'The part sha256 header must be 64 hex digits', { errors: [{ field: 'X-Part-Sha256', message: '64 hex digits' }] });
    }
    // A client that went away while the upload's row was read has a body whose 'close' is
    // already past: no listener would hear of it, and the store would wait for ever.
    if (body.stream.destroyed) throw new WharfError('part_size_mismatch', `Part ${number} ended before its ${expected} bytes: the client went away`);
    return { upload, number, size: expected, sha256: sha256 ?? null };
  }

  /** Where the running digest can read this part: the store's own file, or the spooled copy if it is whole. */
  private partSource(storeUploadId: string, number: number, etag: string, size: number, copier: SpoolingStream | null): PartSource | null {
    if (this.store.localPartFile) return { file: this.store.localPartFile(storeUploadId, number, etag), size, spooled: false };
    if (!copier) return null;
    if (copier.complete) return { file: copier.file, size, spooled: true };
    void rm(copier.file, { force: true });
    return null;
  }

  private recordPart(actor: Actor, audit: AuditEntry, id: string, number: number, size: number, sha256: string | null, etag: string): Promise<UploadPartDto> {
    return this.dataSource.transaction(async (manager) => {
      if (!(await uploadRepository.touchOpen(manager, id, this.config.UPLOAD_IDLE_TIMEOUT_SECONDS))) {
        throw new WharfError('upload_not_open', `Upload ${id} stopped accepting parts while part ${number} was sent`);
      }
      const part = await uploadRepository.upsertPart(manager, id, { number, size, sha256, etag });
      await this.audit.record(manager, actor, audit);
      return partDto(part);
    });
  }
}
