import supertest from 'supertest';
import { timeUntil } from '../support/eventually';
import { auth, seedModel } from '../support/release-fixtures';
import { RegistryProcess, startRegistryProcess } from '../support/registry-process';
import { createSharedDatabase, TestDatabase } from '../support/test-database';
import { bearer } from '../support/test-registry';

const M = '/api/v1/projects/multi/models/resnet';

/** Polls until `check` holds, returning the milliseconds it took; fails after `limitMs`. */
function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  return timeUntil(check, 'the change on the other replica', { timeoutMs: limitMs, everyMs: 20, rethrow: true });
}

describe('two registry processes sharing a database', () => {
  let database: TestDatabase;
  let first: RegistryProcess;
  let second: RegistryProcess;

  beforeAll(async () => {
    database = await createSharedDatabase();
    first = await startRegistryProcess({ DATABASE_URL: database.url });
    second = await startRegistryProcess({ DATABASE_URL: database.url });
    await seedModel(supertest(first.url), 'multi', 'resnet', 3);
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await database?.drop();
  });

  it('resolves a tag moved through one process to the new version on the other within one second', async () => {
    const a = supertest(first.url);
    const b = supertest(second.url);
    await a.put(`${M}/tags/prod`).set(auth).send({ version: 1 }).expect(200);
    // Warm the other process's cache with the old answer.
    await within(1000, async () => (await b.get(`${M}/resolve?ref=prod`).set(auth).expect(200)).body.number === 1);
    for (const version of [2, 3, 1]) {
      expect((await b.get(`${M}/resolve?ref=prod`).set(auth).expect(200)).body.number).not.toBe(version);
      await a.put(`${M}/tags/prod`).set(auth).send({ version }).expect(200);
      const took = await within(1000, async () => (await b.get(`${M}/resolve?ref=prod`).set(auth).expect(200)).body.number === version);
      expect(took).toBeLessThan(1000);
    }
  });

  it('routes an endpoint through the moved tag on the other process within one second', async () => {
    const a = supertest(first.url);
    const b = supertest(second.url);
    await a.put('/api/v1/projects/multi/endpoints/web').set(auth).send({ routes: [{ ref: 'resnet:prod', weight: 100 }] }).expect(201);
    expect((await b.get('/api/v1/projects/multi/endpoints/web/route?key=u1').set(auth).expect(200)).body.route.version).toBe(1);
    await a.put(`${M}/tags/prod`).set(auth).send({ version: 2 }).expect(200);
    await within(1000, async () => (await b.get('/api/v1/projects/multi/endpoints/web/route?key=u1').set(auth).expect(200)).body.route.version === 2);
  });

  it('refuses a token revoked through one process on the other within one second', async () => {
    const a = supertest(first.url);
    const b = supertest(second.url);
    const created = await a.post('/api/v1/tokens').set(auth).send({ name: 'short-lived' }).expect(201);
    const token = bearer(created.body.token);
    await b.get(`${M}/resolve?ref=prod`).set(token).expect(200);
    await b.get(`${M}/resolve?ref=prod`).set(token).expect(200);
    await a.delete(`/api/v1/tokens/${created.body.id}`).set(auth).expect(204);
    await within(1000, async () => (await b.get(`${M}/resolve?ref=prod`).set(token)).status === 401);
  });
});
