import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';
import { kubernetesModel } from './esm';
import { createProject, memberToken, untilCached } from './helpers';

const V1 = 'authentication.k8s.io/v1';
const V1BETA1 = 'authentication.k8s.io/v1beta1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What kube-apiserver sends: metadata and an empty status come along. */
const review = (apiVersion: string, token: string, audiences?: string[]) => ({
  apiVersion,
  kind: 'TokenReview',
  metadata: { creationTimestamp: null },
  spec: { token, ...(audiences ? { audiences } : {}) },
  status: { user: {} },
});

/** What kube-apiserver presents as its own bearer token (TOKENREVIEW_BEARER_TOKEN). */
const CALLER = 'kube-apiserver-shared-secret-0123456789';

describe('POST /api/v1/authn/tokenreview (Kubernetes webhook token authentication)', () => {
  let registry: TestRegistry;
  let alice: { token: string; id: string };
  let aliceId: string;

  beforeAll(async () => {
    registry = await startTestRegistry({ TOKENREVIEW_BEARER_TOKEN: CALLER });
    await createProject(registry.http, 'vision');
    await createProject(registry.http, 'speech');
    alice = await memberToken(registry.http, 'vision', 'alice', 'editor');
    await registry.http.put('/api/v1/projects/speech/members/alice').set(bearer(ADMIN_TOKEN)).send({ role: 'admin' }).expect(200);
    [{ id: aliceId }] = await registry.registry.dataSource.query(`SELECT id FROM principals WHERE name = 'alice'`);
  });
  afterAll(() => registry?.close());

  const post = (body: unknown) => registry.http.post('/api/v1/authn/tokenreview').set(bearer(CALLER)).send(body as object);

  it.each([V1, V1BETA1])('authenticates a valid token in %s with the exact Kubernetes shape', async (apiVersion) => {
    const response = await post(review(apiVersion, alice.token)).expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({
      apiVersion,
      kind: 'TokenReview',
      status: {
        authenticated: true,
        user: {
          username: 'wharf:alice',
          uid: aliceId,
          groups: ['wharf:project:speech:admin', 'wharf:project:vision:editor'],
          extra: { 'wharf.dev/token-id': [alice.id] },
        },
      },
    });
    expect(aliceId).toMatch(UUID);
    // The answer is a TokenReview by the Kubernetes schema of that version.
    const TokenReview = await kubernetesModel(apiVersion, 'TokenReview');
    expect(() => new TokenReview({ ...response.body, spec: { token: 'redacted' } }).validate()).not.toThrow();
  });

  it('gives the same stable uid on every review and for every token of the principal', async () => {
    const second = await memberToken(registry.http, 'vision', 'alice', 'editor');
    const uids = await Promise.all([alice.token, second.token, alice.token].map(async (token) => (await post(review(V1, token)).expect(200)).body.status.user.uid));
    expect(new Set(uids)).toEqual(new Set([aliceId]));
  });

  it('limits groups to the token project and caps them at its role ceiling', async () => {
    const scoped = await registry.http
      .post('/api/v1/tokens')
      .set(bearer(ADMIN_TOKEN))
      .send({ name: 'scoped', principal: 'alice', project: 'speech', role: 'viewer' })
      .expect(201);
    const response = await post(review(V1, scoped.body.token)).expect(200);
    expect(response.body.status.user.groups).toEqual(['wharf:project:speech:viewer']);
  });

  it('gives an unrestricted platform admin the platform group and admin in every project', async () => {
    const response = await post(review(V1BETA1, ADMIN_TOKEN)).expect(200);
    expect(response.body.status.user.username).toBe('wharf:admin');
    expect(response.body.status.user.groups).toEqual(['wharf:platform-admin', 'wharf:project:speech:admin', 'wharf:project:vision:admin']);
  });

  it('echoes requested audiences when the registry is not restricted to some', async () => {
    const response = await post(review(V1, alice.token, ['https://kubernetes.default.svc'])).expect(200);
    expect(response.body.status.authenticated).toBe(true);
    expect(response.body.status.audiences).toEqual(['https://kubernetes.default.svc']);
  });

  it.each([V1, V1BETA1])('refuses an unknown token in %s with authenticated false and an error', async (apiVersion) => {
    const response = await post(review(apiVersion, 'wharf_not-a-real-token-at-all-0000000000000')).expect(200);
    expect(response.body).toEqual({
      apiVersion,
      kind: 'TokenReview',
      status: { authenticated: false, error: 'The bearer token is not a known Wharf token' },
    });
  });

  it.each([V1, V1BETA1])('refuses a revoked token in %s', async (apiVersion) => {
    const revoked = await memberToken(registry.http, 'vision', 'bob', 'viewer');
    expect((await post(review(apiVersion, revoked.token)).expect(200)).body.status.authenticated).toBe(true);
    await registry.http.delete(`/api/v1/tokens/${revoked.id}`).set(bearer(ADMIN_TOKEN)).expect(204);
    const response = await post(review(apiVersion, revoked.token)).expect(200);
    expect(response.body).toEqual({ apiVersion, kind: 'TokenReview', status: { authenticated: false, error: 'The bearer token has been revoked' } });
  });

  it.each([V1, V1BETA1])('refuses an expired token in %s', async (apiVersion) => {
    const expiring = await memberToken(registry.http, 'vision', 'carol', 'viewer', { expiresInDays: 1 });
    await registry.registry.dataSource.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [expiring.id]);
    const response = await post(review(apiVersion, expiring.token)).expect(200);
    expect(response.body).toEqual({ apiVersion, kind: 'TokenReview', status: { authenticated: false, error: 'The bearer token has expired' } });
    const TokenReview = await kubernetesModel(apiVersion, 'TokenReview');
    expect(() => new TokenReview({ ...response.body, spec: { token: 'redacted' } }).validate()).not.toThrow();
  });

  it.each([
    ['no spec', { apiVersion: V1, kind: 'TokenReview' }],
    ['an empty token', review(V1, '')],
    ['another kind', { ...review(V1, 'x'), kind: 'SubjectAccessReview' }],
    ['an unknown apiVersion', review('authentication.k8s.io/v2', 'x')],
    ['audiences that are not strings', { ...review(V1, 'x'), spec: { token: 'x', audiences: [1] } }],
    ['an array', [review(V1, 'x')]],
  ])('answers 400 problem+json to a review with %s', async (_, body) => {
    const response = await post(body).expect(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body.code).toBe('validation_failed');
    expect(JSON.stringify(response.body)).not.toContain(alice.token);
  });

  it('answers 400 to a body that is not JSON', async () => {
    const response = await registry.http
      .post('/api/v1/authn/tokenreview')
      .set(bearer(CALLER))
      .set('Content-Type', 'application/json')
      .send('{"kind":')
      .expect(400);
    expect(response.body.code).toBe('validation_failed');
  });

  it('never echoes the reviewed token', async () => {
    const response = await post(review(V1, alice.token)).expect(200);
    expect(JSON.stringify(response.body)).not.toContain(alice.token);
  });
});

describe('the TokenReview endpoint with a configured caller token and audiences', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startTestRegistry({ TOKENREVIEW_BEARER_TOKEN: CALLER, TOKENREVIEW_AUDIENCES: 'https://kubernetes.default.svc,wharf' });
  });
  afterAll(() => registry?.close());

  it('refuses callers without the configured bearer token', async () => {
    for (const headers of [{}, bearer('wrong-caller-token-000000000000000'), bearer(ADMIN_TOKEN)]) {
      const response = await registry.http.post('/api/v1/authn/tokenreview').set(headers).send(review(V1, ADMIN_TOKEN)).expect(401);
      expect(response.body.code).toBe('unauthenticated');
    }
  });

  it('answers the caller that presents it', async () => {
    const response = await registry.http.post('/api/v1/authn/tokenreview').set(bearer(CALLER)).send(review(V1, ADMIN_TOKEN)).expect(200);
    expect(response.body.status.authenticated).toBe(true);
  });

  it('answers only the configured audiences among those requested, and refuses when none match', async () => {
    const matching = await registry.http
      .post('/api/v1/authn/tokenreview')
      .set(bearer(CALLER))
      .send(review(V1, ADMIN_TOKEN, ['other', 'https://kubernetes.default.svc']))
      .expect(200);
    expect(matching.body.status.audiences).toEqual(['https://kubernetes.default.svc']);
    const none = await registry.http.post('/api/v1/authn/tokenreview').set(bearer(CALLER)).send(review(V1BETA1, ADMIN_TOKEN, ['other'])).expect(200);
    expect(none.body).toEqual({
      apiVersion: V1BETA1,
      kind: 'TokenReview',
      status: { authenticated: false, error: 'The token is not valid for any of the requested audiences' },
    });
  });
});

describe('the TokenReview endpoint without a configured caller token', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry();
  });
  afterAll(() => registry?.close());

  it('is not served at all, so nobody can ask it whether a token is good', async () => {
    for (const headers of [{}, bearer(ADMIN_TOKEN)]) {
      const response = await registry.http.post('/api/v1/authn/tokenreview').set(headers).send(review(V1, ADMIN_TOKEN)).expect(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body.code).toBe('tokenreview_disabled');
      expect(JSON.stringify(response.body)).not.toContain('authenticated');
    }
  });
});

describe('failed TokenReviews count against the caller', () => {
  let registry: TestRegistry;
  let alice: { token: string };
  let bob: { token: string };
  const reviewFrom = (address: string, token: string, caller = CALLER) =>
    registry.http.post('/api/v1/authn/tokenreview').set(bearer(caller)).set('X-Forwarded-For', address).send(review(V1, token));

  beforeAll(async () => {
    registry = await startTestRegistry({ TOKENREVIEW_BEARER_TOKEN: CALLER, RATE_LIMIT_AUTH_FAILURES: '3/60s', TRUST_PROXY: 'loopback' });
    await createProject(registry.http, 'vision');
    alice = await memberToken(registry.http, 'vision', 'alice', 'viewer');
    // Made before alice's review: a membership change empties every replica's token cache.
    bob = await memberToken(registry.http, 'vision', 'bob', 'viewer');
    // Reviewed: from now on this replica knows the token is good.
    await untilCached(registry, alice.token, () => reviewFrom('192.0.2.1', alice.token).expect(200));
  });
  afterAll(() => registry?.close());

  it('answers 429 once a caller has had its budget of refused tokens, and still reviews known good tokens', async () => {
    for (let i = 0; i < 3; i += 1) {
      const refused = await reviewFrom('192.0.2.1', `wharf_guess_${i}_0000000000000000000000`).expect(200);
      expect(refused.body.status.authenticated).toBe(false);
    }
    const limited = await reviewFrom('192.0.2.1', 'wharf_guess_3_0000000000000000000000').expect(429);
    expect(limited.body.code).toBe('rate_limited');
    expect(limited.headers['ratelimit-policy']).toBe('"auth-failures";q=3;w=60');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // A token not yet verified is not looked up for this caller now, even a good one.
    await reviewFrom('192.0.2.1', bob.token).expect(429);
    expect((await reviewFrom('192.0.2.1', alice.token).expect(200)).body.status.authenticated).toBe(true);
    // Another caller address has its own budget.
    expect((await reviewFrom('192.0.2.2', bob.token).expect(200)).body.status.authenticated).toBe(true);
  });

  it('counts a wrong caller token as a failed authentication of the caller', async () => {
    for (let i = 0; i < 3; i += 1) await reviewFrom('192.0.2.3', alice.token, `wrong-caller-token-${i}-000000000000`).expect(401);
    await reviewFrom('192.0.2.3', alice.token, 'wrong-caller-token-4-000000000000').expect(429);
  });
});
