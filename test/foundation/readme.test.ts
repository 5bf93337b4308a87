import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CONFIG_VARIABLES } from '../../src/config/config';
import { RegistryProcess, startRegistryProcess } from '../support/registry-process';

const ROOT = path.resolve(__dirname, '../..');
const README = path.join(ROOT, 'README.md');

/** The shell block between `<!-- <name>:start -->` and `<!-- <name>:end -->`, exactly as a reader copies it. */
async function block(name: string): Promise<string> {
  const readme = await readFile(README, 'utf8');
  const section = readme.split(`<!-- ${name}:start -->`)[1]?.split(`<!-- ${name}:end -->`)[0];
  const found = section?.match(/```sh\n([\s\S]*?)```/)?.[1];
  if (!found) throw new Error(`README.md has no ${name} block`);
  return found;
}

describe("the README's configuration table", () => {
  it('documents every variable the registry reads', async () => {
    const readme = await readFile(README, 'utf8');
    const undocumented = CONFIG_VARIABLES.filter((name) => !readme.includes(`\`${name}\``));
    expect(undocumented).toEqual([]);
  });
});

describe("the README's story: the curl walk-through, then the CLI", () => {
  let workdir: string;
  let registry: RegistryProcess;
  beforeAll(async () => {
    // As on a fresh clone after `npm ci && npm start`: port 8080, embedded defaults, data under
    // ./data, `npx wharf` finding the checkout's CLI (here through a shim running its sources).
    workdir = await mkdtemp(path.join(tmpdir(), 'wharf-readme-'));
    await mkdir(path.join(workdir, 'node_modules/.bin'), { recursive: true });
    await mkdir(path.join(workdir, 'home'));
    const shim = path.join(workdir, 'node_modules/.bin/wharf');
    await writeFile(
      shim,
      `#!/bin/sh\nSWC_NODE_PROJECT=${ROOT}/tsconfig.json exec "${process.execPath}" -r "${require.resolve('@swc-node/register')}" "${ROOT}/src/cli/main.ts" "$@"\n`,
    );
    await chmod(shim, 0o755);
    registry = await startRegistryProcess({ PORT: '8080', DATA_DIR: path.join(workdir, 'data'), WHARF_ADMIN_TOKEN: '' }, 180_000);
  }, 240_000);
  afterAll(async () => {
    await registry?.stop();
    await rm(workdir, { recursive: true, force: true });
  });

  /** Both blocks as one shell session, stopping at the first command that fails. */
  async function runStory() {
    const story = `${await block('walkthrough')}\n${await block('cli')}`;
    return spawnSync('bash', ['--norc', '--noprofile', '-e', '-o', 'pipefail', '-c', story], {
      cwd: workdir,
      // A HOME of its own keeps `wharf login` away from the user's config; npm's update notice is noise.
      env: { PATH: process.env.PATH, HOME: path.join(workdir, 'home'), npm_config_update_notifier: 'false' },
      encoding: 'utf8',
      timeout: 400_000,
    });
  }

  it.each([['the first time'], ['again, in the same data directory']])('runs verbatim %s, every step doing what the comments say', async () => {
    const result = await runStory();
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    const outputs = result.stdout;
    expect(outputs).toContain('"name":"vision"');
    expect(outputs).toContain('"state":"ready"');
    expect(outputs).toMatch(/"manifestDigest":"sha256:[0-9a-f]{64}"/);
    expect(outputs).toContain('"code":"invalid_name"');
    expect(outputs).toContain('"code":"version_immutable"');
    expect(outputs).toMatch(/"reference":"vision\/resnet50@1"/);
    expect(outputs).toContain('download verified');
    // The CLI's part: version 2 promoted and rolled back, version 3 a 10 % candidate, prod pulled.
    expect(outputs).toMatch(/Pushed vision\/resnet50@2 \(tagged staging\)/);
    expect(outputs).toMatch(/vision\/resnet50:prod -> @2\n/);
    expect(outputs).toMatch(/Rolled back: vision\/resnet50:prod -> @1 \(pinned by /);
    expect(outputs).toMatch(/rollback\s+2\s+1\s+.*latency regression/);
    expect(outputs).toMatch(/Pushed vision\/resnet50@3 \(tagged candidate\)/);
    expect(outputs).toMatch(/90%\s+vision\/resnet50:prod\s+vision\/resnet50@1/);
    expect(outputs).toMatch(/10%\s+vision\/resnet50@3\s+vision\/resnet50@3/);
    expect(outputs).toMatch(/Pulled vision\/resnet50@1 into \S*\/serving\/resnet50\n/);
    expect(await readFile(path.join(workdir, 'serving/resnet50/model.bin'))).toEqual(await readFile(path.join(workdir, 'model.bin')));
  }, 600_000);
});
