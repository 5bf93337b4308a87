import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CONFIG_VARIABLES } from '../../src/config/config';
import { RegistryProcess, startRegistryProcess } from '../support/registry-process';

const README = path.resolve(__dirname, '../../README.md');

/** The shell block between the walkthrough markers, exactly as a reader copies it. */
async function walkthrough(): Promise<string> {
  const readme = await readFile(README, 'utf8');
  const section = readme.split('<!-- walkthrough:start -->')[1]?.split('<!-- walkthrough:end -->')[0];
  const block = section?.match(/```sh\n([\s\S]*?)```/)?.[1];
  if (!block) throw new Error('README.md has no walkthrough block');
  return block;
}

describe("the README's configuration table", () => {
  it('documents every variable the registry reads', async () => {
    const readme = await readFile(README, 'utf8');
    const undocumented = CONFIG_VARIABLES.filter((name) => !readme.includes(`\`${name}\``));
    expect(undocumented).toEqual([]);
  });
});

describe("the README's curl walk-through", () => {
  let workdir: string;
  let registry: RegistryProcess;
  beforeAll(async () => {
    // As on a fresh clone after `npm start`: port 8080, embedded defaults, data under ./data.
    workdir = await mkdtemp(path.join(tmpdir(), 'wharf-readme-'));
    registry = await startRegistryProcess({ PORT: '8080', DATA_DIR: path.join(workdir, 'data'), WHARF_ADMIN_TOKEN: '' });
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(workdir, { recursive: true, force: true });
  });

  it('runs verbatim and every step does what the comments say', async () => {
    const result = spawnSync('bash', ['--norc', '--noprofile', '-e', '-o', 'pipefail', '-c', await walkthrough()], {
      cwd: workdir,
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    const outputs = result.stdout;
    expect(outputs).toContain('"name":"vision"');
    expect(outputs).toContain('"state":"ready"');
    expect(outputs).toMatch(/"manifestDigest":"sha256:[0-9a-f]{64}"/);
    expect(outputs).toContain('"code":"invalid_name"');
    expect(outputs).toContain('"code":"version_immutable"');
    expect(outputs).toMatch(/"reference":"vision\/resnet50@1"/);
    expect(outputs).toContain('download verified');
  });
});
