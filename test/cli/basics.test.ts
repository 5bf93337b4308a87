import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { createModel, createProject } from '../support/fixtures';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

describe('the wharf CLI: login, browsing, tokens, exit codes', () => {
  let wharf: TestRegistry;
  let home: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    wharf = await startTestRegistry();
    await createProject(wharf, 'vision');
    await createModel(wharf, 'vision', 'resnet', { labels: { task: 'classification' } });
    await wharf.http.post('/api/v1/projects/vision/models/resnet/versions').set(bearer(ADMIN_TOKEN)).send({ description: 'first' }).expect(201);
    home = await mkdtemp(path.join(tmpdir(), 'wharf-cli-'));
    env = { XDG_CONFIG_HOME: home };
  });
  afterAll(async () => {
    await wharf?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('logs in, saving url and token readable by the user only', async () => {
    const result = await runCli(['login', wharf.url, '--token-stdin'], env, `${ADMIN_TOKEN}\n`);
    expect(result).toMatchObject({ code: 0 });
    const file = path.join(home, 'wharf', 'config.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: wharf.url, token: ADMIN_TOKEN });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('refuses to save a token the registry does not accept (exit 3)', async () => {
    const result = await runCli(['login', wharf.url, '--token', 'wharf_nope'], { XDG_CONFIG_HOME: path.join(home, 'other') });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/not a known Wharf token \[token_invalid\]/);
  });

  it('lists projects and models as tables, or JSON with --json', async () => {
    const projects = await runCli(['ls'], env);
    expect(projects.code).toBe(0);
    expect(projects.stdout).toMatch(/^PROJECT\s+ROLE/);
    expect(projects.stdout).toMatch(/\nvision\s+admin/);
    const models = await runCli(['ls', 'vision', '--label', 'task=classification', '--json'], env);
    expect(models.code).toBe(0);
    expect(JSON.parse(models.stdout)).toEqual([expect.objectContaining({ project: 'vision', name: 'resnet', versionCount: 1 })]);
  });

  it('shows a model, a version and the version list', async () => {
    expect((await runCli(['show', 'vision/resnet'], env)).stdout).toMatch(/Versions:\s+1/);
    const version = await runCli(['show', 'vision/resnet@1', '--json'], env);
    expect(JSON.parse(version.stdout)).toMatchObject({ number: 1, state: 'draft', description: 'first' });
    const versions = await runCli(['versions', 'vision/resnet'], env);
    expect(versions.stdout).toMatch(/\n1\s+draft/);
  });

  it('creates, lists and revokes a token, printing the secret once', async () => {
    const created = await runCli(['token', 'create', 'ci', '--project', 'vision', '--role', 'viewer', '--json'], env);
    expect(created.code).toBe(0);
    const token = JSON.parse(created.stdout) as { id: string; token: string };
    const listed = await runCli(['token', 'list'], env);
    expect(listed.stdout).toContain(token.id);
    expect(listed.stdout).not.toContain(token.token);
    expect((await runCli(['ls'], { WHARF_URL: wharf.url, WHARF_TOKEN: token.token })).code).toBe(0);
    expect((await runCli(['token', 'revoke', token.id], env)).code).toBe(0);
    const refused = await runCli(['ls'], { WHARF_URL: wharf.url, WHARF_TOKEN: token.token });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/revoked/);
  });

  it.each([
    [['show', 'vision/missing'], 4, /No model "missing"/],
    [['show', 'Vision/resnet'], 2, /project name/],
    [['show', 'vision/resnet@x'], 2, /must be a number/],
    [['versions', 'just-a-name'], 2, /<project>\/<model>/],
    [['frobnicate'], 2, /unknown command/],
  ])('wharf %j exits %i with a clear message', async (args, code, message) => {
    const result = await runCli(args as string[], env);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message as RegExp);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('says when the registry cannot be reached (exit 7)', async () => {
    const result = await runCli(['ls', '--url', 'http://127.0.0.1:9'], { ...env, WHARF_TOKEN: ADMIN_TOKEN });
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(/cannot reach http:\/\/127.0.0.1:9/);
  });

  it('prints help for every command', async () => {
    for (const command of ['login', 'ls', 'show', 'versions', 'token']) {
      const result = await runCli([command, '--help'], env);
      expect({ command, code: result.code }).toEqual({ command, code: 0 });
      expect(result.stdout).toMatch(/^Usage: wharf /);
    }
  });
});
