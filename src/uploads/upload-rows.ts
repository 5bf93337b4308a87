import { ProjectContext } from '../auth/auth-context';
import { UploadDto, UploadPartDto, UploadState } from './dto/upload.dto';

/** An upload as the uploads queries read it, with its version's model and number. */
export interface UploadRow {
  id: string;
  project_id: string;
  version_id: string | null;
  path: string;
  size: string;
  sha256: string;
  part_size: string;
  part_count: number;
  state: UploadState;
  storage_key: string;
  store_upload_id: string;
  failure: string | null;
  created_at: Date;
  expires_at: Date;
  model_name: string | null;
  version_number: number | null;
  deduplicated: boolean;
}

export interface PartRow {
  number: number;
  size: string;
  sha256: string | null;
  etag: string;
  received_at: Date;
}

export const UPLOAD_SELECT = `
  SELECT u.*, m.name AS model_name, v.number AS version_number, (u.store_upload_id = '') AS deduplicated
    FROM uploads u
    LEFT JOIN model_versions v ON v.id = u.version_id
    LEFT JOIN models m ON m.id = v.model_id`;

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
