/**
 * Upload routes carry no project in their path (`/uploads/{id}`): the access guard asks the
 * uploads room which project owns one. Declared here, provided by uploads/, so authentication
 * depends on no feature.
 */
export interface UploadOwners {
  /** The name of the project owning the upload, or null for an unknown (or malformed) id. */
  projectNameOf(uploadId: string): Promise<string | null>;
}

export const UPLOAD_OWNERS = Symbol('UploadOwners');
