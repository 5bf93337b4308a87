import supertest from 'supertest';
import { startRegistryProcess, RegistryProcess } from '../support/registry-process';
import { createSharedDatabase, TestDatabase } from '../support/test-database';
import { ADMIN_TOKEN, bearer } from '../support/test-registry';

describe('two registry processes on one database', () => {
  let database: TestDatabase;
  let first: RegistryProcess;
  let second: RegistryProcess;

  beforeAll(async () => {
    database = await createSharedDatabase();
    // One at a time: the second finds the migrations already applied.
    first = await startRegistryProcess({ DATABASE_URL: database.url });
    second = await startRegistryProcess({ DATABASE_URL: database.url });
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await database?.drop();
  });

  it('serves through either process what the other wrote', async () => {
    await supertest(first.url).post('/api/v1/projects').set(bearer(ADMIN_TOKEN)).send({ name: 'shared' }).expect(201);
    await supertest(second.url).post('/api/v1/projects/shared/models').set(bearer(ADMIN_TOKEN)).send({ name: 'm' }).expect(201);
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        supertest(index % 2 ? first.url : second.url)
          .post('/api/v1/projects/shared/models/m/versions')
          .set(bearer(ADMIN_TOKEN))
          .send({}),
      ),
    );
    expect(created.map((response) => [response.status, response.body.code])).toEqual(Array(20).fill([201, undefined]));
    const numbers = created.map((response) => response.body.number as number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
  });
});
