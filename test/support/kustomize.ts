import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/kustomize.sh');

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The kustomize binary to render deploy/ with, or null where there is none and none can be built.
 * $KUSTOMIZE wins and must work (CI sets it: a broken one fails rather than leaving tests out);
 * then the pinned build scripts/kustomize.sh keeps in its cache; then a build of it now, when Go
 * is on this machine (a few minutes once, cached for every later run).
 */
export function findKustomize(): string | null {
  if (process.env.KUSTOMIZE) {
    if (!executable(process.env.KUSTOMIZE)) throw new Error(`KUSTOMIZE=${process.env.KUSTOMIZE} is not an executable file`);
    return process.env.KUSTOMIZE;
  }
  const cached = spawnSync('bash', [SCRIPT, '--path'], { encoding: 'utf8' }).stdout.trim();
  if (cached && executable(cached)) return cached;
  if (spawnSync('go', ['version']).status !== 0) return null;
  const built = spawnSync('bash', [SCRIPT], { encoding: 'utf8', timeout: 15 * 60_000, stdio: ['ignore', 'pipe', 'inherit'] });
  if (built.status !== 0) throw new Error(`scripts/kustomize.sh could not build kustomize (exit ${built.status})`);
  return built.stdout.trim();
}

/** `kustomize build <dir>`: the rendered YAML stream, or an error with kustomize's own message. */
export function renderKustomization(kustomize: string, dir: string): string {
  const result = spawnSync(kustomize, ['build', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`kustomize build ${path.relative(ROOT, dir)} failed: ${result.stderr || result.error?.message}`);
  return result.stdout;
}
