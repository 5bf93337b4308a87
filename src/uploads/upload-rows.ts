import { ProjectContext } from '../auth/auth-context';
import { WharfError } from '../common/errors/wharf-error';
import { Queryable } from '../database/queryable';
import { UploadDto, UploadPartDto } from './dto/upload.dto';
import { PartRow, uploadRepository, UploadRow } from './upload.repository';

export type { PartRow, UploadRow } from './upload.repository';

/** The project's upload with this id (locked for update when asked), or 404. */
export async function findUpload(db: Queryable, project: ProjectContext, id: string, lock = false): Promise<UploadRow> {
  const upload = await uploadRepository.find(db, project.id, id, lock);
  if (!upload) throw new WharfError('upload_not_found', `No upload "${id}"`);
  return upload;
}

/** Files are added to drafts only. */
export function assertDraft(state: string, number: number): void {
  if (state !== 'draft') throw new WharfError('version_immutable', `Version ${number} is ${state}; files can only be added to a draft`);
}

/** Where an upload's file lands, for audit records. */
export function uploadTarget(project: ProjectContext, upload: Pick<UploadRow, 'model_name' | 'version_number' | 'path'>): string {
  return `${project.name}/${upload.model_name}@${upload.version_number}/${upload.path}`;
}

export function partDto(part: PartRow): UploadPartDto {
  return { number: part.number, size: Number(part.size), sha256: part.sha256, receivedAt: part.received_at.toISOString() };
}

export function toDto(project: ProjectContext, upload: UploadRow, parts: PartRow[]): UploadDto {
  return {
    id: upload.id,
    project: project.name,
    model: upload.model_name,
    version: upload.version_number,
    path: upload.path,
    size: Number(upload.size),
    sha256: upload.sha256,
    state: upload.state,
    deduplicated: upload.deduplicated,
    partSize: Number(upload.part_size),
    partCount: upload.part_count,
    parts: parts.map(partDto),
    failure: upload.failure,
    createdAt: upload.created_at.toISOString(),
    expiresAt: upload.expires_at.toISOString(),
  };
}
