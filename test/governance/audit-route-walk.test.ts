import type { Test } from 'supertest';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';
import { createProject } from './helpers';
import { createHash } from 'node:crypto';
import { commitWithFile } from '../support/fixtures';
import { nestRoutes } from '../support/route-table';

const MUTATING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

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
  'POST /api/v1/scheduler/filter': 'a question from kube-scheduler about nodes; answers from memory, stores nothing',
  'POST /api/v1/scheduler/prioritize': 'a question from kube-scheduler about nodes; answers from memory, stores nothing',
  'POST /api/v1/scheduler/t/:token/filter': 'the filter question with the token in the path; stores nothing',
  'POST /api/v1/scheduler/t/:token/prioritize': 'the prioritize question with the token in the path; stores nothing',
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

/** A model whose versions 1..count are ready, each with one small file. */
const ready = (project: string, count = 1) => async (http: Http) => {
  await model(project)(http);
  for (let number = 1; number <= count; number++) {
    await http.post(`/api/v1/projects/${project}/models/m/versions`).set(admin).send({}).expect(201);
    await commitWithFile(http, `/api/v1/projects/${project}/models/m/versions/${number}`, `${project}@${number}`);
  }
  return {};
};
const tagged = (project: string, versions: number[], pin = false) => async (http: Http) => {
  await ready(project, Math.max(...versions))(http);
  for (const version of versions) await http.put(`/api/v1/projects/${project}/models/m/tags/prod`).set(admin).send({ version }).expect(200);
  if (pin) await http.post(`/api/v1/projects/${project}/models/m/tags/prod/pin`).set(admin).send({}).expect(200);
  return {};
};
const upload = (project: string, withPart: boolean) => async (http: Http) => {
  await draft(project)(http);
  const data = Buffer.from(`${project} bytes`);
  const created = await http
    .post(`/api/v1/projects/${project}/models/m/versions/1/uploads`)
    .set(admin)
    .send({ path: 'weights.bin', size: data.length, sha256: createHash('sha256').update(data).digest('hex') })
    .expect(201);
  if (withPart) await http.put(`/api/v1/uploads/${created.body.id}/parts/1`).set(admin).set('Content-Type', 'application/octet-stream').send(data).expect(200);
  return { id: created.body.id as string };
};

const heartbeat = { labels: {}, capacityBytes: 1, budgetBytes: 1, usedBytes: 0, entries: [], demands: [] };

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
    prepare: async (http) => {
      await draft('walk-commit')(http);
      await http.post('/api/v1/projects/walk-commit/models/m/versions/1/files').set(admin).attach('file', Buffer.from('w'), 'w.bin').expect(201);
      return {};
    },
    request: (http) => http.post('/api/v1/projects/walk-commit/models/m/versions/1/commit').set(admin),
    status: 200,
    consequences: ['tag.follow'],
  },
  'POST /api/v1/projects/:project/models/:model/versions/:version/files': {
    prepare: draft('walk-form'),
    request: (http) => http.post('/api/v1/projects/walk-form/models/m/versions/1/files').set(admin).attach('file', Buffer.from('form bytes'), 'a.bin'),
    status: 201,
  },
  'POST /api/v1/projects/:project/models/:model/versions/:version/uploads': {
    prepare: draft('walk-upload'),
    request: (http) => http.post('/api/v1/projects/walk-upload/models/m/versions/1/uploads').set(admin).send({ path: 'a.bin', size: 10, sha256: 'a'.repeat(64) }),
    status: 201,
  },
  'POST /api/v1/uploads/:id/complete': {
    prepare: upload('walk-complete', true),
    request: (http, ids) => http.post(`/api/v1/uploads/${ids.id}/complete`).set(admin),
    status: 200,
  },
  // One record per part: which principal sent which bytes (upload.part), with the part's row.
  'PUT /api/v1/uploads/:id/parts/:number': {
    prepare: upload('walk-part', false),
    request: (http, ids) =>
      http.put(`/api/v1/uploads/${ids.id}/parts/1`).set(admin).set('Content-Type', 'application/octet-stream').send(Buffer.from('walk-part bytes')),
    status: 200,
  },
  'DELETE /api/v1/uploads/:id': {
    prepare: upload('walk-abort', false),
    request: (http, ids) => http.delete(`/api/v1/uploads/${ids.id}`).set(admin),
    status: 204,
  },
  'PUT /api/v1/projects/:project/models/:model/tags/:tag': {
    prepare: ready('walk-tag'),
    request: (http) => http.put('/api/v1/projects/walk-tag/models/m/tags/prod').set(admin).send({ version: 1, reason: 'walk' }),
    status: 200,
  },
  'DELETE /api/v1/projects/:project/models/:model/tags/:tag': {
    prepare: tagged('walk-untag', [1]),
    request: (http) => http.delete('/api/v1/projects/walk-untag/models/m/tags/prod').set(admin),
    status: 204,
  },
  'POST /api/v1/projects/:project/models/:model/tags/:tag/pin': {
    prepare: tagged('walk-pin', [1]),
    request: (http) => http.post('/api/v1/projects/walk-pin/models/m/tags/prod/pin').set(admin).send({}),
    status: 200,
  },
  'POST /api/v1/projects/:project/models/:model/tags/:tag/unpin': {
    prepare: tagged('walk-unpin', [1], true),
    request: (http) => http.post('/api/v1/projects/walk-unpin/models/m/tags/prod/unpin').set(admin).send({}),
    status: 200,
  },
  'POST /api/v1/projects/:project/models/:model/tags/:tag/rollback': {
    prepare: tagged('walk-rollback', [1, 2]),
    request: (http) => http.post('/api/v1/projects/walk-rollback/models/m/tags/prod/rollback').set(admin).send({ reason: 'walk' }),
    status: 200,
  },
  'POST /api/v1/admin/gc': { request: (http) => http.post('/api/v1/admin/gc').set(admin), status: 200 },
  'PUT /api/v1/projects/:project/endpoints/:endpoint': {
    prepare: ready('walk-endpoint'),
    request: (http) => http.put('/api/v1/projects/walk-endpoint/endpoints/web').set(admin).send({ routes: [{ ref: 'm@1', weight: 100 }] }),
    status: 201,
  },
  'DELETE /api/v1/projects/:project/endpoints/:endpoint': {
    prepare: async (http) => {
      await ready('walk-unendpoint')(http);
      await http.put('/api/v1/projects/walk-unendpoint/endpoints/web').set(admin).send({ routes: [{ ref: 'm@1', weight: 100 }] }).expect(201);
      return {};
    },
    request: (http) => http.delete('/api/v1/projects/walk-unendpoint/endpoints/web').set(admin),
    status: 204,
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
  'POST /api/v1/projects/:project/warmups': {
    prepare: ready('walk-warmup'),
    request: (http) => http.post('/api/v1/projects/walk-warmup/warmups').set(admin).send({ model: 'm', ref: '@1', selector: { matchLabels: {} } }),
    status: 201,
  },
  'DELETE /api/v1/projects/:project/warmups/:id': {
    prepare: async (http) => {
      await ready('walk-unwarm')(http);
      const created = await http.post('/api/v1/projects/walk-unwarm/warmups').set(admin).send({ model: 'm', ref: '@1', selector: { matchLabels: {} } }).expect(201);
      return { id: created.body.id as string };
    },
    request: (http, ids) => http.delete(`/api/v1/projects/walk-unwarm/warmups/${ids.id}`).set(admin),
    status: 204,
  },
  // A node's first heartbeat registers it (node.register); routine heartbeats are telemetry.
  'PUT /api/v1/nodes/:node': {
    request: (http) => http.put('/api/v1/nodes/walk-node').set(admin).send(heartbeat),
    status: 200,
  },
  'DELETE /api/v1/nodes/:node': {
    prepare: async (http) => (await http.put('/api/v1/nodes/walk-gone').set(admin).send(heartbeat).expect(200), {}),
    request: (http) => http.delete('/api/v1/nodes/walk-gone').set(admin),
    status: 204,
  },
};

describe('the audit trail of every mutating route', () => {
  let registry: TestRegistry;
  let mutating: string[];

  beforeAll(async () => {
    registry = await startTestRegistry({ WEBHOOK_DISPATCH_ENABLED: 'false' });
    mutating = nestRoutes(registry.registry.app)
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
