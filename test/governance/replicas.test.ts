import supertest from 'supertest';
import { eventually } from '../support/eventually';
import { RegistryProcess, startRegistryProcess } from '../support/registry-process';
import { createSharedDatabase, TestDatabase } from '../support/test-database';
import { ADMIN_TOKEN, bearer } from '../support/test-registry';
import { Receiver } from './receiver';

describe('governance across two registry processes on one database', () => {
  let database: TestDatabase;
  let first: RegistryProcess;
  let second: RegistryProcess;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await new Receiver().start();
    database = await createSharedDatabase();
    const env = { DATABASE_URL: database.url, WEBHOOK_POLL_INTERVAL_MS: '50', WEBHOOK_RETRY_BASE_MS: '200' };
    first = await startRegistryProcess(env);
    second = await startRegistryProcess(env);
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await database?.drop();
    await receiver?.close();
  });

  it('refuses a revoked token on every replica within one second', async () => {
    const created = await supertest(first.url).post('/api/v1/tokens').set(bearer(ADMIN_TOKEN)).send({ name: 'to-revoke' }).expect(201);
    for (const replica of [first, second]) await supertest(replica.url).get('/api/v1/projects').set(bearer(created.body.token)).expect(200);

    await supertest(first.url).delete(`/api/v1/tokens/${created.body.id}`).set(bearer(ADMIN_TOKEN)).expect(204);
    const revokedAt = Date.now();
    const refusedAfter = await Promise.all(
      [first, second].map(async (replica) => {
        for (;;) {
          const response = await supertest(replica.url).get('/api/v1/projects').set(bearer(created.body.token));
          if (response.status === 401) {
            expect(response.body.code).toBe('token_revoked');
            return Date.now() - revokedAt;
          }
          if (Date.now() - revokedAt > 1000) return Infinity;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }),
    );
    expect(refusedAfter.every((ms) => ms <= 1000)).toBe(true);
  });

  it('delivers each event exactly once while both replicas dispatch', async () => {
    const replicas = [supertest(first.url), supertest(second.url)];
    await replicas[0].post('/api/v1/projects').set(bearer(ADMIN_TOKEN)).send({ name: 'fanout' }).expect(201);
    const subscription = await replicas[1]
      .post('/api/v1/projects/fanout/subscriptions')
      .set(bearer(ADMIN_TOKEN))
      .send({ url: `${receiver.url}/fanout`, events: ['model.created'] })
      .expect(201);
    const names = Array.from({ length: 12 }, (_, index) => `model-${index}`);
    await Promise.all(names.map((name, index) => replicas[index % 2].post('/api/v1/projects/fanout/models').set(bearer(ADMIN_TOKEN)).send({ name }).expect(201)));

    const received = await receiver.waitFor('/fanout', names.length);
    // A claimed delivery is logged only after its request was answered, so once every delivery's log
    // holds as many attempts as it was claimed, every send either replica started has reached the
    // receiver: a duplicate would be there now.
    await eventually(async () => {
      const { body } = await replicas[0].get(`/api/v1/projects/fanout/subscriptions/${subscription.body.id}/deliveries?limit=100`).set(bearer(ADMIN_TOKEN)).expect(200);
      const deliveries = body.items as { state: string; attempts: number; log: unknown[] }[];
      return deliveries.length === names.length && deliveries.every((delivery) => delivery.state === 'delivered' && delivery.log.length === delivery.attempts);
    }, 'every claimed delivery to be logged');
    expect(receiver.at('/fanout')).toHaveLength(names.length);
    expect(new Set(received.map((request) => request.headers['wharf-delivery'])).size).toBe(names.length);
    expect(received.map((request) => JSON.parse(request.body).data.model).sort()).toEqual([...names].sort());
  });
});
