import { commitWithFile } from '../support/fixtures';
import { createHmac } from 'node:crypto';
import { signatureHeader, verifySignature } from '../../src/events/signature';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';
import { createProject, memberToken } from './helpers';
import { Receiver } from './receiver';

const admin = bearer(ADMIN_TOKEN);

describe('event webhooks', () => {
  let registry: TestRegistry;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await new Receiver().start();
    registry = await startTestRegistry({
      WEBHOOK_POLL_INTERVAL_MS: '50',
      WEBHOOK_RETRY_BASE_MS: '300',
      WEBHOOK_RETRY_MAX_MS: '2000',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_TIMEOUT_MS: '2000',
      WEBHOOK_SECRET_KEY: 'a-key-for-sealing-webhook-secrets-0123456789',
    });
    await createProject(registry.http, 'hooks');
  });
  afterAll(async () => {
    await registry?.close();
    await receiver?.close();
  });

  const subscribe = (path: string, events: string[], extra: Record<string, unknown> = {}) =>
    registry.http.post('/api/v1/projects/hooks/subscriptions').set(admin).send({ url: `${receiver.url}${path}`, events, ...extra });

  it('delivers model.created signed with the secret shown once, which the receiver verifies', async () => {
    const created = await subscribe('/models', ['model.created']).expect(201);
    const secret: string = created.body.secret;
    expect(secret).toMatch(/^whsec_/);
    await registry.http.post('/api/v1/projects/hooks/models').set(admin).send({ name: 'resnet' }).expect(201);

    const [delivery] = await receiver.waitFor('/models', 1);
    expect(delivery.headers['content-type']).toBe('application/json');
    expect(delivery.headers['wharf-event']).toBe('model.created');
    expect(verifySignature(secret, delivery.headers['wharf-signature'] as string, delivery.body)).toBe(true);
    // The documented recipe, spelled out: HMAC-SHA256 over "<t>.<body>".
    const [, t, v1] = /^t=([0-9]+),v1=([0-9a-f]{64})$/.exec(delivery.headers['wharf-signature'] as string)!;
    expect(createHmac('sha256', secret).update(`${t}.${delivery.body}`).digest('hex')).toBe(v1);
    expect(JSON.parse(delivery.body)).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'model.created',
      occurredAt: expect.any(String),
      project: 'hooks',
      actor: 'admin',
      data: { model: 'resnet', reference: 'hooks/resnet', createdBy: 'admin' },
    });
    // The check can fail: another secret, a changed body, an old timestamp.
    expect(verifySignature('whsec_other', delivery.headers['wharf-signature'] as string, delivery.body)).toBe(false);
    expect(verifySignature(secret, delivery.headers['wharf-signature'] as string, delivery.body.replace('resnet', 'resnex'))).toBe(false);
    const old = Math.floor(Date.now() / 1000) - 3600;
    expect(verifySignature(secret, signatureHeader(secret, old, delivery.body), delivery.body)).toBe(false);

    // The secret is never shown again, and is stored sealed.
    const shown = await registry.http.get(`/api/v1/projects/hooks/subscriptions/${created.body.id}`).set(admin).expect(200);
    const listed = await registry.http.get('/api/v1/projects/hooks/subscriptions').set(admin).expect(200);
    expect(JSON.stringify([shown.body, listed.body])).not.toContain(secret);
    const [{ secret_sealed: sealed }] = await registry.registry.dataSource.query(`SELECT secret_sealed FROM webhook_subscriptions WHERE id = $1`, [created.body.id]);
    expect(sealed).toMatch(/^v1:/);
    expect(sealed).not.toContain(secret);
  });

  it('delivers tag.moved, tag.pinned and endpoint.updated as releases happen', async () => {
    await subscribe('/releases', ['tag.moved', 'tag.pinned', 'endpoint.updated']).expect(201);
    await registry.http.post('/api/v1/projects/hooks/models').set(admin).send({ name: 'ranker' }).expect(201);
    for (const number of [1, 2]) {
      await registry.http.post('/api/v1/projects/hooks/models/ranker/versions').set(admin).send({}).expect(201);
      await commitWithFile(registry.http, `/api/v1/projects/hooks/models/ranker/versions/${number}`, `ranker ${number}`);
    }
    const tags = '/api/v1/projects/hooks/models/ranker/tags/prod';
    await registry.http.put(tags).set(admin).send({ version: 1, reason: 'first' }).expect(200);
    await registry.http.put(tags).set(admin).send({ version: 2, reason: 'better' }).expect(200);
    await registry.http.post(`${tags}/rollback`).set(admin).send({ reason: 'regression' }).expect(200);
    await registry.http.put('/api/v1/projects/hooks/endpoints/rank').set(admin).send({ routes: [{ ref: 'ranker:prod', weight: 100 }] }).expect(201);

    // Seven: `latest` followed each commit by itself (two moves), then prod's three moves and its
    // pin, then the endpoint. Deliveries run concurrently, so they may arrive in any order.
    const all = (await receiver.waitFor('/releases', 7)).map((delivery) => JSON.parse(delivery.body));
    const summary = (event: { type: string; data: Record<string, unknown> }) =>
      [event.type, event.data.tag ?? event.data.endpoint, event.data.version ?? null, event.data.previousVersion ?? null].join(' ');
    expect(all.map(summary).sort()).toEqual(
      [
        'tag.moved latest 1 ',
        'tag.moved latest 2 1',
        'tag.moved prod 1 ',
        'tag.moved prod 2 1',
        'tag.moved prod 1 2',
        'tag.pinned prod 1 ',
        'endpoint.updated rank  ',
      ].sort(),
    );
    const byType = (type: string, version?: number) => all.find((event) => event.type === type && event.data.tag !== 'latest' && (version === undefined || event.data.previousVersion === version));
    expect(byType('tag.moved', 2)!.data).toMatchObject({ model: 'ranker', tag: 'prod', version: 1, reason: 'regression' });
    expect(byType('tag.pinned')!.data).toEqual({ model: 'ranker', tag: 'prod', version: 1, pinned: true });
    expect(byType('endpoint.updated')!.data).toMatchObject({ endpoint: 'rank', routes: [{ ref: 'hooks/ranker:prod', weight: 100 }] });
  });

  it('retries a delivery answered with 500, with growing delays, and then delivers it', async () => {
    receiver.script('/flaky', [500, 500, 204]);
    const created = await subscribe('/flaky', ['version.ready'], { secret: 'my-own-secret-0123456789' }).expect(201);
    expect(created.body.secret).toBeUndefined();
    await registry.http.post('/api/v1/projects/hooks/models').set(admin).send({ name: 'flaky' }).expect(201);
    await registry.http.post('/api/v1/projects/hooks/models/flaky/versions').set(admin).send({}).expect(201);
    await commitWithFile(registry.http, '/api/v1/projects/hooks/models/flaky/versions/1', 'flaky weights');

    const attempts = await receiver.waitFor('/flaky', 3);
    expect(attempts.map((attempt) => attempt.status)).toEqual([500, 500, 204]);
    expect(new Set(attempts.map((attempt) => attempt.headers['wharf-delivery'])).size).toBe(1);
    for (const attempt of attempts) expect(verifySignature('my-own-secret-0123456789', attempt.headers['wharf-signature'] as string, attempt.body)).toBe(true);
    expect(JSON.parse(attempts[2].body).data).toEqual({
      model: 'flaky',
      version: 1,
      reference: 'hooks/flaky@1',
      manifestDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    // Backoff: base 300 ms, then 600 ms (each jittered into its upper half).
    const gaps = [attempts[1].at - attempts[0].at, attempts[2].at - attempts[1].at];
    expect(gaps[0]).toBeGreaterThanOrEqual(150);
    expect(gaps[1]).toBeGreaterThanOrEqual(300);

    const log = await waitForState(created.body.id, 'delivered');
    expect(log.attempts).toBe(3);
    expect(log.log.map((entry: { status: number }) => entry.status)).toEqual([500, 500, 204]);
    expect(log.log[0].error).toBe('the subscriber answered HTTP 500');
    expect(log.deliveredAt).not.toBeNull();
    // The subscription only wanted version.ready: no model.created reached it.
    expect(attempts.every((attempt) => attempt.headers['wharf-event'] === 'version.ready')).toBe(true);
  });

  it('gives up after the configured number of attempts and marks the delivery failed', async () => {
    receiver.script('/down', [503]);
    const created = await subscribe('/down', ['model.created']).expect(201);
    await registry.http.post('/api/v1/projects/hooks/models').set(admin).send({ name: 'given-up' }).expect(201);
    const delivery = await waitForState(created.body.id, 'failed');
    expect(delivery.attempts).toBe(3);
    expect(delivery.nextAttemptAt).toBeNull();
    expect(receiver.at('/down')).toHaveLength(3);
  });

  it('never slows the request that caused the event, however slow the subscriber is', async () => {
    receiver.delay('/slow', 3000);
    await subscribe('/slow', ['model.created']).expect(201);
    const started = Date.now();
    for (const name of ['slow-a', 'slow-b', 'slow-c']) {
      await registry.http.post('/api/v1/projects/hooks/models').set(admin).send({ name }).expect(201);
    }
    // Waiting for the subscriber would take 3 s per request.
    expect(Date.now() - started).toBeLessThan(2000);
    const received = await receiver.waitFor('/slow', 3);
    expect(received.map((request) => JSON.parse(request.body).data.model).sort()).toEqual(['slow-a', 'slow-b', 'slow-c']);
  });

  it('writes no delivery for a change that rolled back', async () => {
    await subscribe('/rollback', ['model.created']).expect(201);
    const before = await registry.count('webhook_deliveries');
    await registry.http.post('/api/v1/projects/hooks/models').set(admin).send({ name: 'resnet' }).expect(409);
    expect(await registry.count('webhook_deliveries')).toBe(before);
  });

  it('shows the delivery log newest first with cursor pagination', async () => {
    const created = await subscribe('/paged', ['model.created']).expect(201);
    for (const name of ['page-a', 'page-b', 'page-c']) await registry.http.post('/api/v1/projects/hooks/models').set(admin).send({ name }).expect(201);
    await receiver.waitFor('/paged', 3);
    const first = await registry.http.get(`/api/v1/projects/hooks/subscriptions/${created.body.id}/deliveries?limit=2`).set(admin).expect(200);
    expect(first.body.items.map((item: { payload: { data: { model: string } } }) => item.payload.data.model)).toEqual(['page-c', 'page-b']);
    const second = await registry.http
      .get(`/api/v1/projects/hooks/subscriptions/${created.body.id}/deliveries?limit=2&cursor=${first.body.nextCursor}`)
      .set(admin)
      .expect(200);
    expect(second.body.items.map((item: { payload: { data: { model: string } } }) => item.payload.data.model)).toEqual(['page-a']);
    expect(second.body.nextCursor).toBeNull();
    await registry.http.get(`/api/v1/projects/hooks/subscriptions/${created.body.id}/deliveries?cursor=bogus`).set(admin).expect(400);
  });

  it.each([
    ['an ftp URL', { url: 'ftp://127.0.0.1/x', events: ['model.created'] }],
    ['a relative URL', { url: '/hooks', events: ['model.created'] }],
    ['credentials in the URL', { url: 'http://user:pw@127.0.0.1/x', events: ['model.created'] }],
    ['an unknown event', { url: 'http://127.0.0.1/x', events: ['model.exploded'] }],
    ['no events', { url: 'http://127.0.0.1/x', events: [] }],
    ['a short secret', { url: 'http://127.0.0.1/x', events: ['model.created'], secret: 'short' }],
    ['an unknown field', { url: 'http://127.0.0.1/x', events: ['model.created'], retries: 3 }],
  ])('refuses a subscription with %s and stores nothing', async (_, body) => {
    const before = await registry.count('webhook_subscriptions');
    const response = await registry.http.post('/api/v1/projects/hooks/subscriptions').set(admin).send(body).expect(400);
    expect(response.body.code).toBe('validation_failed');
    expect(response.body.errors.length).toBeGreaterThan(0);
    expect(await registry.count('webhook_subscriptions')).toBe(before);
  });

  it('lets only project admins manage subscriptions and hides other projects', async () => {
    const editor = await memberToken(registry.http, 'hooks', 'hook-editor', 'editor');
    const forbidden = await registry.http
      .post('/api/v1/projects/hooks/subscriptions')
      .set(bearer(editor.token))
      .send({ url: 'http://127.0.0.1/x', events: ['model.created'] })
      .expect(403);
    expect(forbidden.body.code).toBe('forbidden');
    await registry.http.get('/api/v1/projects/hooks/subscriptions').set(bearer(editor.token)).expect(403);
    await createProject(registry.http, 'elsewhere');
    const outsider = await memberToken(registry.http, 'elsewhere', 'outsider', 'admin');
    await registry.http.get('/api/v1/projects/hooks/subscriptions').set(bearer(outsider.token)).expect(404);
  });

  it('deletes a subscription with its deliveries, after which it is not found', async () => {
    const created = await subscribe('/deleted', ['model.created']).expect(201);
    await registry.http.delete(`/api/v1/projects/hooks/subscriptions/${created.body.id}`).set(admin).expect(204);
    const missing = await registry.http.get(`/api/v1/projects/hooks/subscriptions/${created.body.id}`).set(admin).expect(404);
    expect(missing.body.code).toBe('subscription_not_found');
    await registry.http.delete(`/api/v1/projects/hooks/subscriptions/${created.body.id}`).set(admin).expect(404);
    await registry.http.get('/api/v1/projects/hooks/subscriptions/not-a-uuid/deliveries').set(admin).expect(404);
  });

  async function waitForState(subscriptionId: string, state: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await registry.http.get(`/api/v1/projects/hooks/subscriptions/${subscriptionId}/deliveries`).set(admin).expect(200);
      const delivery = response.body.items[0];
      if (delivery?.state === state) return delivery;
      if (Date.now() > deadline) throw new Error(`delivery still ${delivery?.state} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
});
