import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { filePathProblem } from '../../common/validation/file-path';
import { CliError, EXIT } from '../exit-codes';

export interface LocalFile {
  /** Path inside the version, with `/` separators. */
  path: string;
  /** Where it is on this machine. */
  absolute: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** The regular files under `root` (or `root` itself), sorted; symbolic links are refused. */
export async function listLocalFiles(root: string): Promise<{ path: string; absolute: string }[]> {
  const info = await lstat(root).catch(() => {
    throw new CliError(`${root}: no such file or directory`, EXIT.usage);
  });
  if (info.isFile()) return [{ path: path.basename(root), absolute: path.resolve(root) }];
  if (!info.isDirectory()) throw new CliError(`${root}: not a regular file or directory`, EXIT.usage);
  const found: { path: string; absolute: string }[] = [];
  const walk = async (directory: string, prefix: string) => {
    for (const entry of (await readdir(directory, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const absolute = path.join(directory, entry.name);
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(absolute, relative);
      else if (entry.isFile()) found.push({ path: relative, absolute });
      else throw new CliError(`${absolute}: only regular files can be pushed (symbolic links and devices are not)`, EXIT.usage);
    }
  };
  await walk(path.resolve(root), '');
  if (found.length === 0) throw new CliError(`${root}: the directory holds no files`, EXIT.usage);
  for (const file of found) {
    const problem = filePathProblem(file.path);
    if (problem) throw new CliError(`${file.absolute}: ${problem}`, EXIT.usage);
  }
  return found;
}

/** sha256 and size of a file, read once; `onBytes` sees the progress. */
export async function hashFile(absolute: string, onBytes: (bytes: number) => void = () => undefined): Promise<{ sha256: string; size: number; mtimeMs: number }> {
  const before = await stat(absolute);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(absolute, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
    onBytes((chunk as Buffer).length);
  }
  return { sha256: hash.digest('hex'), size, mtimeMs: before.mtimeMs };
}

/** Refuses to go on with a file that changed since it was hashed. */
export async function assertUnchanged(file: LocalFile): Promise<void> {
  const now = await stat(file.absolute).catch(() => null);
  if (!now || now.size !== file.size || now.mtimeMs !== file.mtimeMs) {
    throw new CliError(
      `${file.absolute} changed while it was being pushed; nothing was committed. Push again once it is stable.`,
      EXIT.integrity,
    );
  }
}
