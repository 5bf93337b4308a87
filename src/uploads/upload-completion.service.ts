import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Actor, ProjectContext } from '../auth/auth-context';
import { BlobsService } from '../blobs/blobs.service';
import { WharfError } from '../common/errors/wharf-error';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { ARTIFACT_STORE, ArtifactStore, StoreRuleError, StoreUnavailableError } from '../storage/artifact-store';
import { versionFileRepository } from '../versions/version-file.repository';
import { versionRepository } from '../versions/version.repository';
import { UploadDto } from './dto/upload.dto';
import { UploadDigests } from './upload-digests';
import { UploadSessions } from './upload-sessions.service';
import { PartRow, uploadRepository, UploadRow } from './upload.repository';
import { assertDraft, findUpload, uploadTarget } from './upload-rows';

/**
 * Completes upload sessions: checks that every part is there with its size, assembles them in
 * the store, checks the file's size and sha256, and only then makes the file part of its
 * version. Repeating a complete is harmless; a wrong file is deleted and the upload fails.
 */
@Injectable()
export class UploadCompletion {
  private readonly logger = new Logger(UploadCompletion.name);

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(BlobsService) private readonly blobs: BlobsService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(UploadDigests) private readonly digests: UploadDigests,
    @Inject(UploadSessions) private readonly sessions: UploadSessions,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  async complete(project: ProjectContext, actor: Actor, id: string): Promise<UploadDto> {
    const begun = await this.begin(project, id);
    if (!begun) return this.sessions.get(project, id);
    const { upload, parts } = begun;
    // Taken before the parts are assembled: assembling moves the part files it was read from.
    const running = await this.digests.running.take(id, parts);
    await this.assemble(upload, parts);
    const size = Number(upload.size);
    const { sha256: digest, bytes } = running ?? (await this.digests.ofObject(upload.storage_key));
    if (bytes !== size || digest !== upload.sha256) {
      await this.fail(id, upload.storage_key, `the assembled file has ${bytes} bytes and sha256 ${digest}`);
      throw new WharfError(
        'file_digest_mismatch',
        `The assembled file has ${bytes} bytes and sha256 ${digest}; the upload was created for ${size} bytes and sha256 ${upload.sha256}. Nothing was kept.`,
      );
    }
    const redundantKey = await this.attach(project, actor, upload).catch(async (error: unknown) => {
      if (error instanceof WharfError) await this.fail(id, upload.storage_key, error.detail);
      throw error;
    });
    if (redundantKey) await this.store.delete(redundantKey).catch(() => undefined);
    return this.sessions.get(project, id);
  }

  /** Moves the session to `completing` once every part is there; null when it is already complete. */
  private begin(project: ProjectContext, id: string): Promise<{ upload: UploadRow; parts: PartRow[] } | null> {
    return this.dataSource.transaction(async (manager) => {
      const upload = await findUpload(manager, project, id, true);
      if (upload.state === 'complete') return null;
      if (upload.state !== 'open' && upload.state !== 'completing') throw new WharfError('upload_not_open', `Upload ${id} is ${upload.state}`);
      const parts = await uploadRepository.parts(manager, id);
      const received = new Set(parts.map((part) => part.number));
      const missing = Array.from({ length: upload.part_count }, (_, index) => index + 1).filter((number) => !received.has(number));
      if (missing.length) {
        throw new WharfError('upload_incomplete', `Upload ${id} is missing ${missing.length} of ${upload.part_count} parts`, {
          missingParts: missing.slice(0, 1000),
        });
      }
      await uploadRepository.setCompleting(manager, id, this.config.UPLOAD_IDLE_TIMEOUT_SECONDS);
      return { upload, parts };
    });
  }

  /** Joins the parts in the store; a retried complete finds them already joined. */
  private async assemble(upload: UploadRow, parts: PartRow[]): Promise<void> {
    try {
      await this.store.completeMultipart(
        upload.storage_key,
        upload.store_upload_id,
        parts.map((part) => ({ number: part.number, size: Number(part.size), etag: part.etag })),
      );
    } catch (error) {
      // An outage decides nothing: the upload stays `completing` and a retried complete goes on.
      if (error instanceof StoreUnavailableError) throw error;
      const assembled = error instanceof StoreRuleError && error.code === 'NoSuchUpload' ? await this.store.stat(upload.storage_key) : null;
      if (!assembled) {
        await this.fail(upload.id, upload.storage_key, `the store refused to assemble the parts: ${(error as Error).message}`);
        throw error instanceof StoreRuleError ? new WharfError('upload_incomplete', `The store refused the parts: ${error.message}`) : error;
      }
    }
  }

  /**
   * Makes the checked file part of its version (still a draft) as the project's blob with its
   * digest. Answers the upload's own key when the project already had those bytes: the caller deletes it.
   */
  private attach(project: ProjectContext, actor: Actor, upload: UploadRow): Promise<string | null> {
    const id = upload.id;
    const size = Number(upload.size);
    return this.dataSource.transaction(async (manager) => {
      const current = await findUpload(manager, project, id, true);
      if (current.state !== 'completing') throw new WharfError('upload_not_open', `Upload ${id} is ${current.state}`);
      const state = current.version_id ? await versionRepository.stateForShare(manager, current.version_id) : null;
      if (!state) throw new WharfError('version_not_found', `The version of upload ${id} was deleted`);
      assertDraft(state, current.version_number ?? 0);
      const { blob, created } = await this.blobs.register(manager, project.id, upload.sha256, size, upload.storage_key);
      await versionFileRepository.attach(manager, current.version_id!, project.id, upload.path, blob);
      await uploadRepository.setState(manager, id, 'complete');
      await this.audit.record(manager, actor, {
        action: 'upload.complete',
        target: uploadTarget(project, current),
        project: project.name,
        details: { upload: id, sha256: upload.sha256, size, deduplicated: !created },
      });
      return created ? null : upload.storage_key;
    });
  }

  /**
   * Marks a completing upload failed and deletes its bytes. Only the call that moves it out of
   * `completing` deletes: a concurrent complete that already succeeded keeps its blob.
   */
  private async fail(id: string, storageKey: string, reason: string): Promise<void> {
    if (!(await uploadRepository.failCompleting(this.dataSource, id, reason))) return;
    await this.store.delete(storageKey).catch((error: Error) => this.logger.warn(`could not delete ${storageKey}: ${error.message}`));
  }
}
