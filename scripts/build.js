#!/usr/bin/env node
// Compiles the registry, the CLI and the node agent to dist/ (`npm run build`), and with
// --if-stale only when a source changed since the last build (`npm start`). tsc runs incrementally,
// but even a no-op incremental tsc parses every file (about 10 s of CPU); comparing modification
// times against the last build's start takes milliseconds. A directory's time changes when an entry
// is added, removed or renamed in it, so deletions count as changes too.
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const CONFIG = 'tsconfig.build.json';
const STAMP = path.join('dist', '.build-stamp');
const BUILD_INFO = path.join('dist', 'tsconfig.build.tsbuildinfo');
/** Outputs every build has; one missing means dist/ was tampered with: build in full. */
const OUTPUTS = ['dist/src/main.js', 'dist/src/cli/main.js', 'dist/node-agent/main.js', 'dist/operator/main.js', 'dist/src/database/migrate.js'];

/** The newest modification time under `file` (itself included), in ms. */
function newest(file) {
  const stats = statSync(file, { throwIfNoEntry: false });
  if (!stats) return 0;
  if (!stats.isDirectory()) return stats.mtimeMs;
  let latest = stats.mtimeMs;
  for (const entry of readdirSync(file)) latest = Math.max(latest, newest(path.join(file, entry)));
  return latest;
}

/** The files and folders tsc reads for dist/, besides node_modules. */
function inputsOf(root) {
  const config = JSON.parse(readFileSync(path.join(root, CONFIG), 'utf8'));
  const inputs = [CONFIG, 'tsconfig.json', 'package.json', 'package-lock.json', ...config.include];
  return inputs.map((input) => path.join(root, input));
}

/** Why dist/ must be built again, or null when it is up to date. */
function staleReason(root) {
  const missing = OUTPUTS.find((output) => !existsSync(path.join(root, output)));
  if (missing) return `${missing} is missing`;
  const stamp = statSync(path.join(root, STAMP), { throwIfNoEntry: false });
  if (!stamp) return 'no earlier build recorded';
  const builtFrom = Number(readFileSync(path.join(root, STAMP), 'utf8')) || 0;
  const changed = inputsOf(root).find((input) => newest(input) > builtFrom);
  return changed ? `${path.relative(root, changed)} changed` : null;
}

function build(root) {
  const started = Date.now();
  // Without a record of the last build, dist/ may lack files tsc's build info says it wrote.
  if (!existsSync(path.join(root, STAMP))) rmSync(path.join(root, BUILD_INFO), { force: true });
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, CONFIG), '--incremental'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) return result.status ?? 1;
  // The build's start, not its end: a source saved while tsc ran is newer, and builds next time.
  writeFileSync(path.join(root, STAMP), String(started));
  return 0;
}

function main() {
  const root = path.resolve(__dirname, '..');
  if (process.argv.includes('--if-stale') && staleReason(root) === null) return 0;
  return build(root);
}

if (require.main === module) process.exit(main());

module.exports = { staleReason, STAMP };
