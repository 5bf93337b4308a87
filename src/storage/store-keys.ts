/**
 * Object keys are made by the registry, never taken from clients, but every driver checks them
 * anyway so that no key can ever name a path outside the store.
 */
const KEY = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export function assertStoreKey(key: string): string {
  if (!KEY.test(key) || key.split('/').some((segment) => segment === '.' || segment === '..') || key.length > 900) {
    throw new Error(`invalid store key ${JSON.stringify(key)}`);
  }
  return key;
}

/**
 * Where the bytes of one upload (or one form file) of a project go. Unique per upload, so no
 * upload can ever overwrite bytes another one wrote; the `blobs` table maps a project's sha256
 * to the key of its verified copy, which is what makes the store content-addressed.
 */
export function blobKey(projectId: string, uniqueId: string): string {
  return `blobs/${projectId}/${uniqueId}`;
}

export const BLOB_PREFIX = 'blobs/';
