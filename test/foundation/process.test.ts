import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import supertest from 'supertest';
import { eventually } from '../support/eventually';
import { startRegistryProcess } from '../support/registry-process';
import { ADMIN_TOKEN, bearer } from '../support/test-registry';

const ROOT = path.resolve(__dirname, '../..');

describe('the registry as a process on embedded defaults', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-process-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('generates an admin token on first start only, and keeps data across restarts', async () => {
    const first = await startRegistryProcess({ DATA_DIR: dataDir, WHARF_ADMIN_TOKEN: '' });
    let token: string;
    try {
      // The banner goes to stderr, "listening" to stdout: the two pipes are read independently.
      const printed = await eventually(async () => first.output.join('\n').match(/wharf_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/), 'the generated token on stderr', 5_000, 20);
      expect(printed).not.toBeNull();
      token = printed![0];
      const file = path.join(dataDir, 'initial-admin-token');
      expect((await readFile(file, 'utf8')).trim()).toBe(token);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      await supertest(first.url).post('/api/v1/projects').set(bearer(token)).send({ name: 'kept' }).expect(201);
    } finally {
      await first.stop();
    }

    const second = await startRegistryProcess({ DATA_DIR: dataDir, WHARF_ADMIN_TOKEN: '' });
    try {
      expect(second.output.join('\n')).not.toMatch(/wharf_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/);
      const projects = await supertest(second.url).get('/api/v1/projects').set(bearer(token)).expect(200);
      expect(projects.body.items.map((p: { name: string }) => p.name)).toEqual(['kept']);
    } finally {
      await second.stop();
    }
  });

  it('uses WHARF_ADMIN_TOKEN and revokes the previous one when it changes', async () => {
    const tokenA = 'admin-token-aaaaaaaaaaaaaaaaaaaaaaaa';
    const tokenB = 'admin-token-bbbbbbbbbbbbbbbbbbbbbbbb';
    const withA = await startRegistryProcess({ DATA_DIR: dataDir, WHARF_ADMIN_TOKEN: tokenA });
    await supertest(withA.url).get('/api/v1/projects').set(bearer(tokenA)).expect(200);
    await withA.stop();
    const withB = await startRegistryProcess({ DATA_DIR: dataDir, WHARF_ADMIN_TOKEN: tokenB });
    try {
      await supertest(withB.url).get('/api/v1/projects').set(bearer(tokenB)).expect(200);
      const old = await supertest(withB.url).get('/api/v1/projects').set(bearer(tokenA));
      expect(old.body.code).toBe('token_revoked');
    } finally {
      await withB.stop();
    }
  });

  it('logs one JSON line per request with its request id', async () => {
    const registry = await startRegistryProcess({ DATA_DIR: dataDir });
    try {
      await supertest(registry.url).get('/healthz').set('X-Request-Id', 'trace-me-1').expect(200);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const line = registry.output.find((entry) => entry.includes('trace-me-1'));
      expect(line).toBeDefined();
      expect(JSON.parse(line!)).toMatchObject({ req: { id: 'trace-me-1', method: 'GET', url: '/healthz' }, res: { statusCode: 200 } });
    } finally {
      await registry.stop();
    }
  });

  it('refuses to start on bad configuration, naming every bad variable', () => {
    const result = spawnSync(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, PORT: 'eighty', LOG_LEVEL: 'chatty', WHARF_ADMIN_TOKEN: 'too-short-secret' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/PORT="eighty": /);
    expect(result.stderr).toMatch(/LOG_LEVEL="chatty": /);
    expect(result.stderr).toMatch(/WHARF_ADMIN_TOKEN=\*\*\*\*: must be at least 24 characters/);
    expect(result.stderr).not.toContain('too-short-secret');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('applies migrations with the migration command and is idempotent', () => {
    const run = () =>
      spawnSync(process.execPath, ['-r', '@swc-node/register', 'src/database/migrate.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, DATA_DIR: path.join(dataDir, 'fresh') },
        encoding: 'utf8',
      });
    const first = run();
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/^applied: Foundation/);
    expect(run().stdout).toBe('the schema is up to date\n');
  });
});

/** Every process below `pid`, with its command line, from /proc (Linux, as the registry's lock is). */
async function descendantsOf(pid: number): Promise<{ pid: number; cmdline: string }[]> {
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean).map(Number);
  const found: { pid: number; cmdline: string }[] = [];
  for (const child of children) {
    found.push({ pid: child, cmdline: (await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ').trim() });
    found.push(...(await descendantsOf(child)));
  }
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'wharf-npm-start-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stops the registry and its embedded database when its own pid gets SIGTERM', async () => {
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, WHARF_ADMIN_TOKEN: ADMIN_TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
    let below: { pid: number; cmdline: string }[] = [];
    try {
      // A build may run first when dist/ is stale; the registry then logs that it listens.
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: npm.stdout }).on('line', (line) => line.includes('wharf registry listening') && resolve());
        void exited.then(() => reject(new Error('npm start exited before the registry listened')));
      });
      below = await descendantsOf(npm.pid!);
      const registry = below.find((entry) => entry.cmdline.endsWith('dist/src/main.js'));
      const database = below.find((entry) => entry.cmdline.includes('wharf-embedded-postgres'));
      expect({ registry: Boolean(registry), database: Boolean(database) }).toEqual({ registry: true, database: true });

      npm.kill('SIGTERM');
      await exited;
      const left = await eventually(async () => {
        const running = [registry!, database!].filter((entry) => alive(entry.pid));
        return running.length ? null : running;
      }, 'the registry and its database to exit', 15_000, 100).catch(() => [registry!, database!].filter((entry) => alive(entry.pid)));
      expect(left).toEqual([]);
    } finally {
      // Whatever outlived npm is ours to end, by its pid.
      for (const entry of below) if (alive(entry.pid)) process.kill(entry.pid, 'SIGKILL');
      if (npm.exitCode === null) npm.kill('SIGKILL');
    }
  }, 300_000);

  it('builds again only when a source changed since the last build', async () => {
    const run = () => spawnSync(process.execPath, ['scripts/build.js', '--if-stale'], { cwd: ROOT, encoding: 'utf8' });
    expect(run().status).toBe(0);
    // Every build records when it started; an unchanged record means tsc did not run.
    const stamp = await readFile(path.join(ROOT, 'dist/.build-stamp'), 'utf8');
    expect(run().status).toBe(0);
    expect(await readFile(path.join(ROOT, 'dist/.build-stamp'), 'utf8')).toBe(stamp);
  }, 240_000);

  it('counts a changed, added or removed source, a missing output and a missing record as stale', async () => {
    const { staleReason, OUTPUTS } = require('../../scripts/build.js') as { staleReason(root: string): string | null; OUTPUTS: string[] };
    const root = path.join(dataDir, 'project');
    const write = async (file: string, text = '') => {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), text);
    };
    for (const file of ['tsconfig.json', 'package.json', 'package-lock.json', 'src/main.ts', 'src/sub/a.ts']) await write(file, '{}');
    await write('tsconfig.build.json', JSON.stringify({ include: ['src'] }));
    // Every program's entrypoint (the list grows with the programs: registry, CLI, agent, executor, operator…).
    expect(OUTPUTS).toEqual(expect.arrayContaining(['dist/src/main.js', 'dist/node-agent/main.js']));
    for (const output of OUTPUTS) await write(output);
    expect(staleReason(root)).toBe('no earlier build recorded');
    const record = async (at: number) => {
      await write('dist/.build-stamp', String(at));
      // Every input as saved just before that build.
      for (const file of ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json', 'src', 'src/main.ts', 'src/sub', 'src/sub/a.ts']) {
        await utimes(path.join(root, file), new Date(at - 1000), new Date(at - 1000)).catch(() => undefined);
      }
    };
    const builtAt = Date.now();
    await record(builtAt);
    expect(staleReason(root)).toBeNull();
    await utimes(path.join(root, 'src/sub/a.ts'), new Date(), new Date(builtAt + 1000));
    expect(staleReason(root)).toBe('src changed');
    await record(builtAt);
    await rm(path.join(root, 'src/sub/a.ts'));
    expect(staleReason(root)).toBe('src changed');
    await record(builtAt);
    await rm(path.join(root, 'dist/node-agent/main.js'));
    expect(staleReason(root)).toBe('dist/node-agent/main.js is missing');
  });
});
