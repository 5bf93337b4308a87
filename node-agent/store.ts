import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/**
 * The cache directory:
 *
 *   blobs/<sha256>                     verified file contents, stored once
 *   partial/<sha256>                   downloads in progress (+ `.chunks`, the finished chunks)
 *   versions/<project>/<model>/<n>/    a version's files, hard links to their blobs
 *   versions/<project>/<model>/<n>.ready.json   the ready marker: the manifest, written last
 *
 * A version is ready exactly when its marker exists. Publishing builds the link tree in a
 * staging directory, renames it into place, then writes the marker (temp file, fsync, rename),
 * so a crash at any point leaves either a ready version or one that restart discards.
 */

export interface VersionRef {
  project: string;
  model: string;
  version: number;
}

export interface StoredFile {
  path: string;
  size: number;
  sha256: string;
}

export interface ReadyVersion extends VersionRef {
  key: string;
  manifestDigest: string;
  files: StoredFile[];
  bytes: number;
  /** When a pod last asked for it (the marker's mtime), for LRU order across restarts. */
  lastUsedAt: number;
}

export const versionKeyOf = (ref: VersionRef) => `${ref.project}/${ref.model}@${ref.version}`;

export function parseVersionKey(key: string): VersionRef {
  const match = /^([^/]+)\/([^@]+)@(\d+)$/.exec(key);
  if (!match) throw new Error(`not a version key: ${key}`);
  return { project: match[1], model: match[2], version: Number(match[3]) };
}

/** A manifest path is safe to place under a version directory: relative, normalised, no `..`. */
export function safeRelativePath(file: string): boolean {
  if (!file || file.startsWith('/') || file.includes('\\') || file.includes('\0')) return false;
  return file.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

export class CacheStore {
  readonly blobsDir: string;
  readonly partialDir: string;
  readonly versionsDir: string;

  constructor(readonly root: string) {
    this.blobsDir = path.join(root, 'blobs');
    this.partialDir = path.join(root, 'partial');
    this.versionsDir = path.join(root, 'versions');
  }

  blobPath(sha256: string): string {
    return path.join(this.blobsDir, sha256);
  }
  partialPath(sha256: string): string {
    return path.join(this.partialDir, sha256);
  }
  versionDir(ref: VersionRef): string {
    return path.join(this.versionsDir, ref.project, ref.model, String(ref.version));
  }
  private markerPath(ref: VersionRef): string {
    return `${this.versionDir(ref)}.ready.json`;
  }

  /**
   * Rebuilds the index from disk: ready versions are those with a marker whose files are all
   * present with the right size (and the right sha256 when `verify`); anything else under
   * versions/ (staging trees, versions without a marker, broken ones) is removed. Partial
   * downloads stay, so pulls resume.
   */
  async open(verify = false): Promise<{ ready: ReadyVersion[]; discarded: string[] }> {
    await Promise.all([this.blobsDir, this.partialDir, this.versionsDir].map((dir) => fs.mkdir(dir, { recursive: true })));
    const ready: ReadyVersion[] = [];
    const discarded: string[] = [];
    const verified = new Map<string, boolean>();
    for (const project of await fs.readdir(this.versionsDir)) {
      const projectDir = path.join(this.versionsDir, project);
      for (const model of await fs.readdir(projectDir).catch(() => [])) {
        const modelDir = path.join(projectDir, model);
        const names = await fs.readdir(modelDir).catch(() => [] as string[]);
        const markers = new Set(names.filter((name) => /^\d+\.ready\.json$/.test(name)).map((name) => name.split('.')[0]));
        for (const name of names) {
          const full = path.join(modelDir, name);
          const number = name.split('.')[0];
          if (/^\d+$/.test(name) && markers.has(number)) {
            const version = await this.readMarker({ project, model, version: Number(number) });
            if (version && (await this.intact(version, verify, verified))) {
              ready.push(version);
              continue;
            }
            discarded.push(`${project}/${model}@${number}`);
            await this.removeVersion({ project, model, version: Number(number) });
          } else if (/^\d+$/.test(name) || name.startsWith('.staging-')) {
            discarded.push(`${project}/${model}/${name}`);
            await fs.rm(full, { recursive: true, force: true });
          } else if (/^\d+\.ready\.json(\.tmp)?$/.test(name) && !(await exists(path.join(modelDir, number)))) {
            await fs.rm(full, { force: true });
          }
        }
      }
    }
    await this.collectGarbage();
    return { ready, discarded };
  }

  private async readMarker(ref: VersionRef): Promise<ReadyVersion | undefined> {
    try {
      const marker = this.markerPath(ref);
      const [text, stat] = await Promise.all([fs.readFile(marker, 'utf8'), fs.stat(marker)]);
      const parsed = JSON.parse(text) as { manifestDigest: string; files: StoredFile[] };
      return {
        ...ref,
        key: versionKeyOf(ref),
        manifestDigest: parsed.manifestDigest,
        files: parsed.files,
        bytes: parsed.files.reduce((sum, file) => sum + file.size, 0),
        lastUsedAt: stat.mtimeMs,
      };
    } catch {
      return undefined;
    }
  }

  private async intact(version: ReadyVersion, verify: boolean, verified: Map<string, boolean>): Promise<boolean> {
    for (const file of version.files) {
      const stat = await fs.stat(path.join(this.versionDir(version), file.path)).catch(() => undefined);
      if (!stat || stat.size !== file.size) return false;
      if (verify) {
        if (!verified.has(file.sha256)) verified.set(file.sha256, (await sha256File(this.blobPath(file.sha256)).catch(() => '')) === file.sha256);
        if (!verified.get(file.sha256)) return false;
      }
    }
    return true;
  }

  async hasBlob(sha256: string, size: number): Promise<boolean> {
    const stat = await fs.stat(this.blobPath(sha256)).catch(() => undefined);
    return stat?.size === size;
  }

  /** Moves a verified, fsynced download into blobs/. */
  async publishBlob(sha256: string, from: string): Promise<void> {
    await fs.rename(from, this.blobPath(sha256));
    await fsyncDir(this.blobsDir);
  }

  /** Links a version's blobs into place and marks it ready; every blob must be present. */
  async publishVersion(ref: VersionRef, manifestDigest: string, files: StoredFile[]): Promise<ReadyVersion> {
    const finalDir = this.versionDir(ref);
    const modelDir = path.dirname(finalDir);
    await fs.mkdir(modelDir, { recursive: true });
    const staging = await fs.mkdtemp(path.join(modelDir, '.staging-'));
    for (const file of files) {
      if (!safeRelativePath(file.path)) throw new Error(`unsafe path in manifest: ${JSON.stringify(file.path)}`);
      const target = path.join(staging, file.path);
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.link(this.blobPath(file.sha256), target);
    }
    await fs.rm(this.markerPath(ref), { force: true });
    await fs.rm(finalDir, { recursive: true, force: true });
    await fs.rename(staging, finalDir);
    await fsyncDir(modelDir);
    const marker = this.markerPath(ref);
    const handle = await fs.open(`${marker}.tmp`, 'w');
    try {
      await handle.writeFile(JSON.stringify({ ...ref, manifestDigest, files }));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(`${marker}.tmp`, marker);
    await fsyncDir(modelDir);
    return (await this.readMarker(ref))!;
  }

  /** Records a use, so LRU order survives restarts. */
  async touch(ref: VersionRef): Promise<void> {
    const now = new Date();
    await fs.utimes(this.markerPath(ref), now, now).catch(() => undefined);
  }

  /**
   * Unready first (the marker goes), then the tree. Blobs it linked stay until
   * collectGarbage, which the caller runs knowing which blobs in-flight pulls still need.
   */
  async removeVersion(ref: VersionRef): Promise<void> {
    await fs.rm(this.markerPath(ref), { force: true });
    await fs.rm(this.versionDir(ref), { recursive: true, force: true });
  }

  /** Drops a blob whose bytes are wrong; versions linking it must be removed by the caller. */
  async dropBlob(sha256: string): Promise<void> {
    await fs.rm(this.blobPath(sha256), { force: true });
  }

  /** Deletes blobs with no version linking them (link count 1: only blobs/ itself). */
  async collectGarbage(keep: ReadonlySet<string> = new Set()): Promise<number> {
    let freed = 0;
    for (const name of await fs.readdir(this.blobsDir)) {
      if (keep.has(name)) continue;
      const stat = await fs.stat(path.join(this.blobsDir, name)).catch(() => undefined);
      if (stat && stat.nlink <= 1) {
        await fs.rm(path.join(this.blobsDir, name), { force: true });
        freed += stat.size;
      }
    }
    return freed;
  }

  /** Bytes on disk: blobs plus partial downloads (hard links are not counted twice). */
  async usedBytes(): Promise<number> {
    let used = 0;
    for (const dir of [this.blobsDir, this.partialDir]) {
      for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
        const stat = await fs.stat(path.join(dir, name)).catch(() => undefined);
        if (stat?.isFile()) used += stat.blocks !== undefined ? Math.min(stat.size, stat.blocks * 512) : stat.size;
      }
    }
    return used;
  }

  /** Size of the filesystem holding the cache. */
  async capacityBytes(): Promise<number> {
    const stats = await fs.statfs(this.root);
    return stats.blocks * stats.bsize;
  }
}
