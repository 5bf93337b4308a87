import { TokenPublicIds1764372120000 } from '../../migrations/1764372120000-TokenPublicIds';
import { createSharedDatabase } from '../support/test-database';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

/** Every 6-character piece of a secret: a stored column holding any of them holds part of it. */
const pieces = (secret: string) => Array.from({ length: secret.length - 5 }, (_, index) => secret.slice(index, index + 6));

describe('what the database keeps of a token', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry();
  });
  afterAll(() => registry?.close());

  const storedText = async (id: string) => {
    const [row]: Record<string, unknown>[] = await registry.registry.dataSource.query(
      `SELECT name, token_prefix, project_id, role_ceiling, created_by FROM api_tokens WHERE id = $1`,
      [id],
    );
    return JSON.stringify(Object.values(row));
  };

  it('keeps no part of the operator-chosen WHARF_ADMIN_TOKEN, only its sha256', async () => {
    const [admin]: { id: string; token_prefix: string | null }[] = await registry.registry.dataSource.query(
      `SELECT t.id, t.token_prefix FROM api_tokens t JOIN principals p ON p.id = t.principal_id WHERE p.name = 'admin' AND t.revoked_at IS NULL`,
    );
    expect(admin.token_prefix).toBeNull();
    const stored = await storedText(admin.id);
    for (const piece of pieces(ADMIN_TOKEN.slice('wharf_'.length))) expect(stored).not.toContain(piece);
    const listed = await registry.http.get('/api/v1/tokens').set(bearer(ADMIN_TOKEN)).expect(200);
    expect(listed.body.items.find((token: { id: string }) => token.id === admin.id).prefix).toBeNull();
  });

  it('shows the public id of a generated token as its prefix, and stores nothing of its secret', async () => {
    const created = await registry.http.post('/api/v1/tokens').set(bearer(ADMIN_TOKEN)).send({ name: 'ci' }).expect(201);
    const [, publicId, secret] = /^wharf_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(created.body.token)!;
    expect(created.body.prefix).toBe(`wharf_${publicId}`);
    const stored = await storedText(created.body.id);
    expect(stored).toContain(publicId);
    for (const piece of pieces(secret)) expect(stored).not.toContain(piece);
    const shown = await registry.http.get(`/api/v1/tokens/${created.body.id}`).set(bearer(ADMIN_TOKEN)).expect(200);
    expect(shown.body.prefix).toBe(`wharf_${publicId}`);
  });

  it('erases the prefixes older rows kept of their secrets when migrating, and the tokens keep working', async () => {
    const created = await registry.http.post('/api/v1/tokens').set(bearer(ADMIN_TOKEN)).send({ name: 'old' }).expect(201);
    const runner = registry.registry.dataSource.createQueryRunner();
    const migration = new TokenPublicIds1764372120000();
    try {
      // The schema and rows as they were before: the token's first 12 characters stored.
      await migration.down(runner);
      await runner.query(`UPDATE api_tokens SET token_prefix = left($2, 12) WHERE id = $1`, [created.body.id, created.body.token]);
      await runner.query(`UPDATE api_tokens SET token_prefix = left($1, 12) WHERE token_prefix = 'wharf_'`, [ADMIN_TOKEN]);
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    const rows: { token_prefix: string | null }[] = await registry.registry.dataSource.query(`SELECT token_prefix FROM api_tokens`);
    expect(rows.map((row) => row.token_prefix)).toEqual(rows.map(() => null));
    await registry.http.get('/api/v1/projects').set(bearer(created.body.token)).expect(200);
  });
});

describe('rotating WHARF_ADMIN_TOKEN across replicas', () => {
  it('refuses the previous value on a replica still running with it once a replica starts with the new one', async () => {
    const database = await createSharedDatabase();
    const rotatedToken = 'wharf_rotated_admin_token_0123456789ab';
    const old = await startTestRegistry({ DATABASE_URL: database.url });
    let rotated: TestRegistry | undefined;
    try {
      // Verified, so cached on the old replica.
      await old.http.get('/api/v1/projects').set(bearer(ADMIN_TOKEN)).expect(200);
      rotated = await startTestRegistry({ DATABASE_URL: database.url, WHARF_ADMIN_TOKEN: rotatedToken });
      const started = Date.now();
      let code: string | undefined;
      while (Date.now() - started < 1000) {
        const response = await old.http.get('/api/v1/projects').set(bearer(ADMIN_TOKEN));
        if (response.status === 401) {
          code = response.body.code;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(code).toBe('token_revoked');
      await old.http.get('/api/v1/projects').set(bearer(rotatedToken)).expect(200);
    } finally {
      await rotated?.close();
      await old.close();
      await database.drop();
    }
  });
});
