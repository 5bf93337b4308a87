import { createHash } from 'node:crypto';

export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

/**
 * The manifest digest of a version: sha256 over its file list in a canonical form (one line
 * per file, `<sha256> <size> <path>`, sorted by path bytes). Two versions with the same files
 * have the same digest, whatever order the files were uploaded in.
 */
export function manifestDigest(files: readonly ManifestEntry[]): string {
  const lines = [...files]
    .sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
    .map((file) => `${file.sha256} ${file.size} ${file.path}\n`);
  const hash = createHash('sha256');
  hash.update('wharf-manifest-v1\n');
  for (const line of lines) hash.update(line);
  return `sha256:${hash.digest('hex')}`;
}
