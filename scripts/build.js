#!/usr/bin/env node
// Compiles the registry, the CLI, the node agent and the executor to dist/ and bundles the web
// console into dist/web (`npm run build`), and with
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
/** The web console (web/, Vite) has a record of its own: changing one side rebuilds only it. */
const WEB_STAMP = path.join('dist', '.web-build-stamp');
const WEB_OUTPUT = path.join('dist', 'web', 'index.html');
const WEB_INPUTS = ['web', 'package.json', 'package-lock.json'];
/** Outputs every build has; one missing means dist/ was tampered with: build in full. */
const OUTPUTS = ['dist/src/main.js', 'dist/src/cli/main.js', 'dist/node-agent/main.js', 'dist/executor/main.js', 'dist/operator/main.js', 'dist/src/database/migrate.js'];

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

/** Why dist/web must be bundled again, or null when it is up to date (or there is no web/). */
function webStaleReason(root) {
  if (!existsSync(path.join(root, 'web'))) return null;
  if (!existsSync(path.join(root, WEB_OUTPUT))) return `${WEB_OUTPUT} is missing`;
  const stamp = statSync(path.join(root, WEB_STAMP), { throwIfNoEntry: false });
  if (!stamp) return 'no earlier web build recorded';
  const builtFrom = Number(readFileSync(path.join(root, WEB_STAMP), 'utf8')) || 0;
  const changed = WEB_INPUTS.map((input) => path.join(root, input)).find((input) => newest(input) > builtFrom);
  return changed ? `${path.relative(root, changed)} changed` : null;
}

function buildWeb(root) {
  const started = Date.now();
  // vite's package exports hide its bin; its package.json is exported, and the bin sits beside it.
  const vite = path.join(path.dirname(require.resolve('vite/package.json', { paths: [root] })), 'bin', 'vite.js');
  const args = [vite, 'build', '--config', path.join(root, 'web', 'vite.config.mts'), '--logLevel', 'warn'];
  // NODE_ENV=production always: jest sets it to 'test', and React would ship its development build.
  const env = { ...process.env, NODE_ENV: 'production', VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' };
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) return result.status ?? 1;
  writeFileSync(path.join(root, WEB_STAMP), String(started));
  return 0;
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
  const ifStale = process.argv.includes('--if-stale');
  if (!ifStale || staleReason(root) !== null) {
    const status = build(root);
    if (status !== 0) return status;
  }
  if (existsSync(path.join(root, 'web')) && (!ifStale || webStaleReason(root) !== null)) return buildWeb(root);
  return 0;
}

if (require.main === module) process.exit(main());

module.exports = { staleReason, webStaleReason, STAMP, WEB_STAMP, OUTPUTS };
