import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { CountingProxy } from '../support/counting-proxy';
import { createModel, createProject } from '../support/fixtures';
import { ADMIN_TOKEN, startTestRegistry, TestRegistry } from '../support/test-registry';

const ROOT = path.resolve(__dirname, '../..');
const MIB = 1024 * 1024;
const PART = 5 * MIB;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('wharf push and pull, end to end through the CLI', () => {
  let wharf: TestRegistry;
  let proxy: CountingProxy;
  let work: string;
  let env: Record<string, string>;
  const files: Record<string, Buffer> = {
    'config.json': Buffer.from('{"architecture":"resnet50"}\n'),
    'tokenizer/vocab.txt': randomBytes(300 * 1024),
    'model.safetensors': randomBytes(40 * MIB),
  };

  beforeAll(async () => {
    wharf = await startTestRegistry({ UPLOAD_PART_SIZE: String(PART) });
    await createProject(wharf, 'vision');
    await createModel(wharf, 'vision', 'resnet');
    proxy = await new CountingProxy(wharf.url).start();
    work = await mkdtemp(path.join(tmpdir(), 'wharf-push-'));
    env = { WHARF_URL: proxy.url, WHARF_TOKEN: ADMIN_TOKEN, XDG_CONFIG_HOME: path.join(work, 'config'), XDG_CACHE_HOME: path.join(work, 'cache') };
    for (const [name, data] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(work, 'model', name)), { recursive: true });
      await writeFile(path.join(work, 'model', name), data);
    }
  });
  afterAll(async () => {
    await proxy?.close();
    await wharf?.close();
    await rm(work, { recursive: true, force: true });
  });

  const partsOf = (size: number) => Math.max(1, Math.ceil(size / PART));
  const totalPartBytes = Object.values(files).reduce((sum, data) => sum + data.length, 0);

  it('resumes an interrupted push, sending only the missing parts, and pulls back identical files', async () => {
    // First push: slowed down, interrupted with SIGINT once three parts have landed.
    proxy.delayPartsMs = 150;
    const child = spawn(process.execPath, ['-r', '@swc-node/register', path.join(ROOT, 'src/cli/main.ts'), 'push', 'vision/resnet', path.join(work, 'model'), '--concurrency', '1'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    while (proxy.parts.filter((part) => part.status === 200).length < 3) {
      if (child.exitCode !== null) throw new Error('the push ended before it could be interrupted');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    // A part the client finished sending just before it died still reaches the registry.
    await proxy.settled();
    const firstRun = proxy.acceptedBytes();
    const firstRunParts = proxy.parts.filter((part) => part.status === 200).length;
    expect(firstRun).toBeGreaterThan(0);
    expect(firstRun).toBeLessThan(totalPartBytes);
    const drafts = await wharf.registry.dataSource.query(`SELECT number, state FROM model_versions`);
    expect(drafts).toEqual([{ number: 1, state: 'draft' }]);

    // Second push: resumes the same draft and sends exactly what was missing.
    proxy.reset();
    proxy.delayPartsMs = 0;
    const second = await runCli(['push', 'vision/resnet', path.join(work, 'model'), '--tag', 'staging', '--json'], env);
    expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(second.stdout);
    expect(result).toMatchObject({ project: 'vision', model: 'resnet', version: 1, resumed: true, tag: 'staging' });
    expect(proxy.sentBytes()).toBe(totalPartBytes - firstRun);
    expect(result.bytesSent).toBe(totalPartBytes - firstRun);
    expect(proxy.parts.length).toBe(Object.values(files).reduce((sum, data) => sum + partsOf(data.length), 0) - firstRunParts);
    const versions = await wharf.registry.dataSource.query(`SELECT number, state FROM model_versions`);
    expect(versions).toEqual([{ number: 1, state: 'ready' }]);

    // Pull by tag into another directory: every file identical.
    const target = path.join(work, 'pulled');
    const pulled = await runCli(['pull', 'vision/resnet:staging', target, '--chunk-size', String(3 * MIB), '--json'], env);
    expect({ code: pulled.code, stderr: pulled.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(pulled.stdout)).toMatchObject({ version: 1, manifestDigest: result.manifestDigest });
    for (const [name, data] of Object.entries(files)) {
      expect({ name, sha256: sha256(await readFile(path.join(target, name))) }).toEqual({ name, sha256: sha256(data) });
    }
    // Pulling again finds everything in place and downloads nothing.
    const again = JSON.parse((await runCli(['pull', 'vision/resnet@1', target, '--json'], env)).stdout);
    expect(again.bytesReceived).toBe(0);
  });

  it('pushes the same files again without sending a byte (dedupe inside the project)', async () => {
    proxy.reset();
    const result = await runCli(['push', 'vision/resnet', path.join(work, 'model'), '--json'], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ version: 2, bytesSent: 0 });
    expect(proxy.parts).toEqual([]);
  });

  it('tags, pins, rolls back and shows the history', async () => {
    const json = async (args: string[], code = 0) => {
      const result = await runCli([...args, '--json'], env);
      expect({ args, code: result.code, stderr: code === 0 ? result.stderr : '' }).toEqual({ args, code, stderr: '' });
      return result.stdout ? JSON.parse(result.stdout) : undefined;
    };
    await json(['tag', 'vision/resnet@1', 'prod', '--reason', 'first']);
    await json(['tag', 'vision/resnet@2', 'prod', '--reason', 'second']);
    expect(await json(['resolve', 'vision/resnet:prod'])).toMatchObject({ number: 2 });
    expect(await json(['rollback', 'vision/resnet:prod', '--reason', 'regression'])).toMatchObject({ version: 1, pinned: true });
    const refused = await runCli(['tag', 'vision/resnet@2', 'prod'], env);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/pinned.*\[tag_pinned\]/);
    await json(['unpin', 'vision/resnet:prod']);
    await json(['tag', 'vision/resnet@2', 'prod']);
    expect(await json(['pin', 'vision/resnet:prod', '--reason', 'freeze'])).toMatchObject({ version: 2, pinned: true });
    expect((await runCli(['tag', 'vision/resnet@1', 'prod'], env)).code).toBe(5);
    await json(['unpin', 'vision/resnet:prod']);
    const history = await json(['history', 'vision/resnet:prod']);
    expect(history.map((entry: { action: string; to: number }) => [entry.action, entry.to])).toEqual([
      ['unpin', 2],
      ['pin', 2],
      ['move', 2],
      ['unpin', 1],
      ['rollback', 1],
      ['move', 2],
      ['move', 1],
    ]);
    const table = await runCli(['history', 'vision/resnet:prod'], env);
    expect(table.stdout).toMatch(/^SEQ\s+ACTION\s+FROM\s+TO\s+BY/);
  });

  it('splits traffic and routes a sticky key', async () => {
    const split = await runCli(['split', 'vision/web', 'resnet:prod=90', 'resnet@1=10', '--sticky-header', 'X-User', '--json'], env);
    expect(split.code).toBe(0);
    expect(JSON.parse(split.stdout)).toMatchObject({ name: 'web', stickyHeader: 'X-User', routes: [{ weight: 90 }, { weight: 10 }] });
    const first = JSON.parse((await runCli(['route', 'vision/web', '--key', 'user-7', '--json'], env)).stdout);
    const second = JSON.parse((await runCli(['route', 'vision/web', '--key', 'user-7', '--json'], env)).stdout);
    expect(second.route.reference).toBe(first.route.reference);
    const bad = await runCli(['split', 'vision/web', 'resnet:prod=90', 'resnet@1=20'], env);
    expect(bad.code).toBe(6);
    expect(bad.stderr).toMatch(/100/);
  });

  it('refuses a bad token, an unknown model and a malformed reference, committing nothing', async () => {
    const before = await wharf.count('model_versions');
    const badToken = await runCli(['push', 'vision/resnet', path.join(work, 'model')], { ...env, WHARF_TOKEN: 'wharf_not-a-token' });
    expect(badToken.code).toBe(3);
    expect(badToken.stderr).toMatch(/not a known Wharf token/);
    const unknown = await runCli(['push', 'vision/nope', path.join(work, 'model')], env);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/No model "nope"/);
    const malformed = await runCli(['pull', 'vision/resnet@latest!', path.join(work, 'x')], env);
    expect(malformed.code).toBe(2);
    expect(await wharf.count('model_versions')).toBe(before);
  });

  it('stops when a file changes while it is being pushed, leaving nothing committed', async () => {
    const changing = path.join(work, 'changing');
    await mkdir(changing, { recursive: true });
    await writeFile(path.join(changing, 'weights.bin'), randomBytes(4 * PART));
    proxy.reset();
    proxy.delayPartsMs = 200;
    const pushing = runCli(['push', 'vision/resnet', changing, '--concurrency', '1'], env);
    while (proxy.parts.length < 1) await new Promise((resolve) => setTimeout(resolve, 20));
    await appendFile(path.join(changing, 'weights.bin'), 'late bytes');
    const result = await pushing;
    proxy.delayPartsMs = 0;
    expect(result.code).toBe(8);
    expect(result.stderr).toMatch(/changed while it was being pushed; nothing was committed/);
    const states = await wharf.registry.dataSource.query(`SELECT state FROM model_versions ORDER BY number DESC LIMIT 1`);
    expect(states).toEqual([{ state: 'draft' }]);
  });
});
