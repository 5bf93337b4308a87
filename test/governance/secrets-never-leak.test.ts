import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Response } from 'supertest';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';
import { createProject, memberToken } from './helpers';

const admin = bearer(ADMIN_TOKEN);

describe('secrets after creation', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startTestRegistry({ WEBHOOK_DISPATCH_ENABLED: 'false' });
  });
  afterAll(() => registry?.close());

  it('never appear in any response of the token routes, the audit API or the subscription routes', async () => {
    const http = registry.http;
    await createProject(http, 'leaks');
    const alice = await memberToken(http, 'leaks', 'alice', 'admin');
    const created = [alice.token];
    const ids = [alice.id];
    for (const body of [{ name: 'own' }, { name: 'scoped', project: 'leaks', role: 'viewer' }, { name: 'for-bob', principal: 'bob' }]) {
      const response = await http.post('/api/v1/tokens').set(admin).send(body).expect(201);
      created.push(response.body.token);
      ids.push(response.body.id);
    }
    const subscription = await http.post('/api/v1/projects/leaks/subscriptions').set(admin).send({ url: 'http://127.0.0.1:9/x', events: ['model.created'] }).expect(201);
    const webhookSecret: string = subscription.body.secret;
    await http.post('/api/v1/projects/leaks/subscriptions').set(admin).send({ url: 'http://127.0.0.1:9/y', events: ['tag.moved'], secret: 'chosen-secret-never-shown-1234' }).expect(201);
    await http.delete(`/api/v1/tokens/${ids[1]}`).set(admin).expect(204);

    const responses: { label: string; response: Response }[] = [];
    const get = async (path: string, token: string) => responses.push({ label: `GET ${path}`, response: await http.get(path).set(bearer(token)) });
    for (const token of [ADMIN_TOKEN, alice.token]) {
      await get('/api/v1/tokens', token);
      await get('/api/v1/tokens?all=true', token);
      for (const id of ids) await get(`/api/v1/tokens/${id}`, token);
      await get('/api/v1/audit?limit=200', token);
      await get('/api/v1/projects/leaks/subscriptions', token);
      await get(`/api/v1/projects/leaks/subscriptions/${subscription.body.id}`, token);
      await get(`/api/v1/projects/leaks/subscriptions/${subscription.body.id}/deliveries`, token);
    }
    await get('/api/v1/tokens?principal=bob&all=true', ADMIN_TOKEN);
    await get('/api/v1/tokens/not-a-token', ADMIN_TOKEN);
    responses.push({ label: 'DELETE token', response: await http.delete(`/api/v1/tokens/${ids[2]}`).set(admin) });
    responses.push({ label: 'POST token with a secret field', response: await http.post('/api/v1/tokens').set(admin).send({ name: 'x', secret: created[0] }) });
    expect(responses.filter(({ response }) => response.status >= 500).map(({ label }) => label)).toEqual([]);
    expect(responses.filter(({ response }) => response.status === 200).length).toBeGreaterThan(15);

    const hashes: string[] = (await registry.registry.dataSource.query(`SELECT secret_sha256 FROM api_tokens`)).map((row: { secret_sha256: string }) => row.secret_sha256);
    const sealed: string[] = (await registry.registry.dataSource.query(`SELECT secret_sealed FROM webhook_subscriptions`)).map((row: { secret_sealed: string }) => row.secret_sealed);
    expect(hashes.length).toBeGreaterThanOrEqual(created.length);
    const forbidden = [...hashes, ...sealed, ...created, ADMIN_TOKEN, webhookSecret, 'chosen-secret-never-shown-1234'];
    for (const { label, response } of responses) {
      const seen = `${JSON.stringify(response.headers)}\n${response.text}`;
      for (const secret of forbidden) expect(seen.includes(secret) ? `${label} shows ${secret}` : null).toBeNull();
    }
    // The scan can fail: a creation response does carry its secret.
    expect(created.every((token) => token.startsWith('wharf_'))).toBe(true);
  });
});

describe('secret comparisons', () => {
  it('are constant-time: no source file compares a secret, digest or signature with === or !==', async () => {
    const files: string[] = [];
    // There sha256 is a file's content digest, public by design (it is the download's ETag), and
    // comparing it is an integrity check, not a secret check.
    const contentDigestFolders = new Set(['uploads', 'files', 'storage', 'gc']);
    const walk = async (dir: string) => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (!contentDigestFolders.has(entry.name)) await walk(full);
        }
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) files.push(full);
      }
    };
    await walk(path.resolve(__dirname, '../../src'));
    const comparison = /\b\w*(secret|digest|signature|sha256)\w*(\.\w+)*\s*[!=]==|[!=]==\s*\w*(secret|digest|signature|sha256)\w*/i;
    const offenders: string[] = [];
    for (const file of files) {
      (await readFile(file, 'utf8')).split('\n').forEach((line, index) => {
        // Presence checks (`secret === undefined`) compare no secret.
        const compared = line.replace(/\s*[!=]==\s*(undefined|null)\b/g, '');
        if (comparison.test(compared)) offenders.push(`${path.relative(process.cwd(), file)}:${index + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
    expect(comparison.test('if (row.secret_sha256 === digest) return')).toBe(true);
  });
});
