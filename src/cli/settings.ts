import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { CliError, EXIT } from './exit-codes';

export interface Settings {
  url: string;
  token?: string;
  /** Where url and token came from, for `wharf login --show`. */
  source: 'flags' | 'environment' | 'config file' | 'default';
}

export const DEFAULT_URL = 'http://localhost:8080';

/** `$XDG_CONFIG_HOME/wharf/config.json`, or `~/.config/wharf/config.json`. */
export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || homedir(), '.config');
  return path.join(base, 'wharf', 'config.json');
}

/** `$XDG_CACHE_HOME/wharf/pushes` (`~/.cache/…`): notes of interrupted pushes, to resume them. */
export function pushStateDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || path.join(env.HOME || homedir(), '.cache');
  return path.join(base, 'wharf', 'pushes');
}

interface StoredConfig {
  url?: string;
  token?: string;
}

async function readStored(file: string): Promise<StoredConfig> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as StoredConfig;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.usage);
  }
}

/** Flags win over WHARF_URL / WHARF_TOKEN, which win over the file `wharf login` wrote. */
export async function resolveSettings(flags: { url?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): Promise<Settings> {
  const stored = await readStored(configFile(env));
  const url = flags.url ?? env.WHARF_URL ?? stored.url ?? DEFAULT_URL;
  const token = flags.token ?? env.WHARF_TOKEN ?? stored.token;
  const source = flags.url || flags.token ? 'flags' : env.WHARF_URL || env.WHARF_TOKEN ? 'environment' : stored.url ? 'config file' : 'default';
  try {
    new URL(url);
  } catch {
    throw new CliError(`"${url}" is not a URL (from ${source})`, EXIT.usage);
  }
  return { url, token, source };
}

/** Saves url and token readable by this user only. */
export async function saveLogin(url: string, token: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = configFile(env);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify({ url, token }, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}
