import type { Readable } from 'node:stream';

/** What the typed client's calls answer beyond the registry's own DTOs. */

export interface ListOptions {
  limit?: number;
  cursor?: string;
  sort?: string;
  prefix?: string;
  label?: string[];
}

/** One file of a version's manifest. */
export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

/** `GET …/versions/{ref}/files`: the file list of a version, sorted by path. */
export interface Manifest {
  project: string;
  model: string;
  version: number;
  state: string;
  manifestDigest: string | null;
  items: ManifestFile[];
}

/** A download in progress: the response's body as a Node stream and the headers that matter. */
export interface Download {
  status: number;
  /** The file's sha256 (the ETag without quotes). */
  etag: string | null;
  contentLength: number | null;
  /** `bytes start-end/size` of a 206. */
  contentRange: string | null;
  /** The bytes, unread: consume them, or `destroy()` the stream to stop. */
  body: Readable;
}
