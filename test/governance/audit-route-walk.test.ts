import type { Test } from 'supertest';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';
import { createProject } from './helpers';
import { MUTATING_METHODS, routeTable } from './route-table';

type Http = TestRegistry['http'];
const admin = bearer(ADMIN_TOKEN);

interface Recipe {
  /** Creates what the request needs; its own audit records are not counted. */
  prepare?: (http: Http) => Promise<Record<string, string>>;
  /** The request under test, which must succeed. */
  request: (http: Http, ids: Record<string, string>) => Test;
  status: number;
  /**
   * Records the change causes by itself in the same transaction, besides its own one (say a
   * commit moving `latest`: `tag.follow`). Each is listed, so nothing else can slip in.
   */
  consequences?: string[];
}

/** POST routes that change nothing and so write no audit record, with the reason. */
const NOT_MUTATIONS: Record<string, string> = {
  'POST /api/v1/authn/tokenreview': 'a question from kube-apiserver about a token; answers, stores nothing',
};

const model = (project: string, name = 'm') => async (http: Http) => {
  await createProject(http, project);
  await http.post(`/api/v1/projects/${project}/models`).set(admin).send({ name }).expect(201);
  return {};
};
const draft = (project: string) => async (http: Http) => {
  await model(project)(http);
  await http.post(`/api/v1/projects/${project}/models/m/versions`).set(admin).send({}).expect(201);
  return {};
};

/**
 * One successful request per mutating route. A route without a recipe fails the test, so a
 * new mutating route cannot ship without showing its audit record.
 */
const RECIPES: Record<string, Recipe> = {
  'POST /api/v1/projects': { request: (http) => http.post('/api/v1/projects').set(admin).send({ name: 'walk-create' }), status: 201 },
  'PATCH /api/v1/projects/:project': {
    prepare: async (http) => (await createProject(http, 'walk-patch'), {}),
    request: (http) => http.patch('/api/v1/projects/walk-patch').set(admin).send({ description: 'changed' }),
    status: 200,
  },
  'DELETE /api/v1/projects/:project': {
    prepare: async (http) => (await createProject(http, 'walk-delete'), {}),
    request: (http) => http.delete('/api/v1/projects/walk-delete').set(admin),
    status: 204,
  },
  'PUT /api/v1/projects/:project/members/:principal': {
    prepare: async (http) => (await createProject(http, 'walk-member'), {}),
    request: (http) => http.put('/api/v1/projects/walk-member/members/walker').set(admin).send({ role: 'editor' }),
    status: 200,
  },
  'DELETE /api/v1/projects/:project/members/:principal': {
    prepare: async (http) => {
      await createProject(http, 'walk-unmember');
      await http.put('/api/v1/projects/walk-unmember/members/walker').set(admin).send({ role: 'viewer' }).expect(200);
      return {};
    },
    request: (http) => http.delete('/api/v1/projects/walk-unmember/members/walker').set(admin),
    status: 204,
  },
  'PUT /api/v1/projects/:project/quota': {
    prepare: async (http) => (await createProject(http, 'walk-quota'), {}),
    request: (http) => http.put('/api/v1/projects/walk-quota/quota').set(admin).send({ cpu: '4', memory: '16Gi' }),
    status: 200,
  },
  'POST /api/v1/tokens': { request: (http) => http.post('/api/v1/tokens').set(admin).send({ name: 'walk' }), status: 201 },
  'DELETE /api/v1/tokens/:id': {
    prepare: async (http) => ({ id: (await http.post('/api/v1/tokens').set(admin).send({ name: 'walk-revoke' }).expect(201)).body.id }),
    request: (http, ids) => http.delete(`/api/v1/tokens/${ids.id}`).set(admin),
    status: 204,
  },
  'POST /api/v1/projects/:project/models': {
    prepare: async (http) => (await createProject(http, 'walk-model'), {}),
    request: (http) => http.post('/api/v1/projects/walk-model/models').set(admin).send({ name: 'm' }),
    status: 201,
  },
  'PATCH /api/v1/projects/:project/models/:model': {
    prepare: model('walk-model-patch'),
    request: (http) => http.patch('/api/v1/projects/walk-model-patch/models/m').set(admin).send({ labels: { a: 'b' } }),
    status: 200,
  },
  'DELETE /api/v1/projects/:project/models/:model': {
    prepare: model('walk-model-delete'),
    request: (http) => http.delete('/api/v1/projects/walk-model-delete/models/m').set(admin),
    status: 204,
  },
  'POST /api/v1/projects/:project/models/:model/versions': {
    prepare: model('walk-version'),
    request: (http) => http.post('/api/v1/projects/walk-version/models/m/versions').set(admin).send({}),
    status: 201,
  },
  'PATCH /api/v1/projects/:project/models/:model/versions/:version': {
    prepare: draft('walk-version-patch'),
    request: (http) => http.patch('/api/v1/projects/walk-version-patch/models/m/versions/1').set(admin).send({ description: 'd' }),
    status: 200,
  },
  'POST /api/v1/projects/:project/models/:model/versions/:version/commit': {
    prepare: draft('walk-commit'),
    request: (http) => http.post('/api/v1/projects/walk-commit/models/m/versions/1/commit').set(admin),
    status: 200,
  },
  'DELETE /api/v1/projects/:project/models/:model/versions/:version': {
    prepare: draft('walk-version-delete'),
    request: (http) => http.delete('/api/v1/projects/walk-version-delete/models/m/versions/1').set(admin),
    status: 204,
  },
  'POST /api/v1/projects/:project/subscriptions': {
    prepare: async (http) => (await createProject(http, 'walk-subscribe'), {}),
    request: (http) => http.post('/api/v1/projects/walk-subscribe/subscriptions').set(admin).send({ url: 'http://127.0.0.1:9/x', events: ['model.created'] }),
    status: 201,
  },
  'DELETE /api/v1/projects/:project/subscriptions/:id': {
    prepare: async (http) => {
      await createProject(http, 'walk-unsubscribe');
      const created = await http.post('/api/v1/projects/walk-unsubscribe/subscriptions').set(admin).send({ url: 'http://127.0.0.1:9/x', events: ['model.created'] });
      return { id: created.body.id };
    },
    request: (http, ids) => http.delete(`/api/v1/projects/walk-unsubscribe/subscriptions/${ids.id}`).set(admin),
    status: 204,
  },
};

describe('the audit trail of every mutating route', () => {
  let registry: TestRegistry;
  let mutating: string[];

  beforeAll(async () => {
    registry = await startTestRegistry({ WEBHOOK_DISPATCH_ENABLED: 'false' });
    mutating = routeTable(registry.registry.app)
      .filter((route) => MUTATING_METHODS.has(route.method))
      .map((route) => `${route.method} ${route.path}`)
      .filter((route) => !(route in NOT_MUTATIONS));
  });
  afterAll(() => registry?.close());

  it('has a recipe for every mutating route in the route table, and none for a route that is gone', () => {
    expect(mutating.length).toBeGreaterThanOrEqual(Object.keys(RECIPES).length);
    expect(mutating.filter((route) => !(route in RECIPES))).toEqual([]);
    expect(Object.keys(RECIPES).filter((route) => !mutating.includes(route))).toEqual([]);
  });

  it('writes exactly one audit record, of the request itself, for each mutating route', async () => {
    const failures: string[] = [];
    for (const route of mutating) {
      const recipe = RECIPES[route];
      if (!recipe) continue;
      const ids = (await recipe.prepare?.(registry.http)) ?? {};
      const [{ max }] = await registry.registry.dataSource.query(`SELECT coalesce(max(id), 0)::text AS max FROM audit_events`);
      const response = await recipe.request(registry.http, ids);
      if (response.status !== recipe.status) {
        failures.push(`${route}: answered ${response.status} ${JSON.stringify(response.body)}`);
        continue;
      }
      const records: { actor: string; request_id: string; action: string }[] = await registry.registry.dataSource.query(
        `SELECT actor, request_id, action FROM audit_events WHERE id > $1`,
        [max],
      );
      const consequences = recipe.consequences ?? [];
      const own = records.filter((record) => !consequences.includes(record.action));
      const caused = records.filter((record) => consequences.includes(record.action)).map((record) => record.action);
      if (own.length !== 1) failures.push(`${route}: wrote ${own.length} audit records (${records.map((r) => r.action).join(', ')})`);
      else if (own[0].request_id !== response.headers['x-request-id'] || own[0].actor !== 'admin') {
        failures.push(`${route}: the record is not this request's (${JSON.stringify(own[0])})`);
      }
      if (caused.sort().join() !== [...consequences].sort().join()) failures.push(`${route}: consequences ${caused.join(', ')}, expected ${consequences.join(', ')}`);
    }
    expect(failures).toEqual([]);
  });
});
