import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import supertest from 'supertest';
import { eventually } from '../support/node-cache';
import { startRegistryProcess } from '../support/registry-process';
import { bearer } from '../support/test-registry';

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
