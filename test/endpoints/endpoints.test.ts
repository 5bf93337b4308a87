import { auth, seedModel } from '../support/release-fixtures';
import { startTestRegistry, TestRegistry } from '../support/test-registry';

const P = '/api/v1/projects/ep';
const M = `${P}/models/resnet`;

describe('endpoints and resolve', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startTestRegistry();
    // versions 1-3 ready, 4 a draft
    await seedModel(registry.http, 'ep', 'resnet', 3, 1, { sameContent: true });
    await registry.http.put(`${M}/tags/prod`).set(auth).send({ version: 1 }).expect(200);
  });
  afterAll(async () => registry?.close());

  const stored = async () => [await registry.count('endpoints'), await registry.count('endpoint_routes'), await registry.count('audit_events')];

  describe('resolve', () => {
    it.each([
      ['prod', 1, 'prod'],
      [':prod', 1, 'prod'],
      ['ep/resnet:prod', 1, 'prod'],
      ['latest', 3, 'latest'],
      ['@2', 2, undefined],
      ['resnet@2', 2, undefined],
    ])('resolves %s', async (ref, number, tag) => {
      const response = await registry.http.get(`${M}/resolve`).query({ ref }).set(auth).expect(200);
      expect(response.body).toMatchObject({ project: 'ep', model: 'resnet', number, state: 'ready', reference: `ep/resnet@${number}` });
      expect(response.body.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(response.body.tag).toBe(tag);
    });

    it('resolves a digest shared by several versions to the lowest-numbered ready one', async () => {
      const v3 = await registry.http.get(`${M}/versions/3`).set(auth).expect(200);
      const response = await registry.http.get(`${M}/resolve`).query({ ref: `@${v3.body.manifestDigest}` }).set(auth).expect(200);
      const rows = await registry.registry.dataSource.query(
        `SELECT min(number)::int AS n FROM model_versions WHERE manifest_digest = $1 AND state = 'ready'`,
        [v3.body.manifestDigest],
      );
      expect(response.body.number).toBe(rows[0].n);
    });

    it('follows a tag move at once', async () => {
      await registry.http.get(`${M}/resolve?ref=moving`).set(auth).expect(404);
      await registry.http.put(`${M}/tags/moving`).set(auth).send({ version: 1 }).expect(200);
      expect((await registry.http.get(`${M}/resolve?ref=moving`).set(auth).expect(200)).body.number).toBe(1);
      await registry.http.put(`${M}/tags/moving`).set(auth).send({ version: 2 }).expect(200);
      expect((await registry.http.get(`${M}/resolve?ref=moving`).set(auth).expect(200)).body.number).toBe(2);
    });

    it.each([
      ['@4', 409, 'version_not_ready'],
      ['@99', 404, 'version_not_found'],
      ['nope', 404, 'tag_not_found'],
      [`@sha256:${'0'.repeat(64)}`, 404, 'version_not_found'],
      ['@sha256:abc', 400, 'invalid_reference'],
      ['other/resnet:prod', 400, 'invalid_reference'],
      ['a/b/c:x', 400, 'invalid_reference'],
      ['@0', 400, 'invalid_reference'],
    ])('answers %s with %i %s', async (ref, status, code) => {
      const response = await registry.http.get(`${M}/resolve`).query({ ref }).set(auth).expect(status);
      expect(response.body.code).toBe(code);
    });

    it('needs a ref', async () => {
      await registry.http.get(`${M}/resolve`).set(auth).expect(400);
    });
  });

  describe('endpoints', () => {
    it('creates an endpoint with weighted routes to a version and a tag, a mirror and a sticky header', async () => {
      const response = await registry.http
        .put(`${P}/endpoints/classifier`)
        .set(auth)
        .send({ routes: [{ ref: 'resnet:prod', weight: 90 }, { ref: 'resnet@2', weight: 10 }], mirror: { ref: 'resnet@3', percent: 5 }, stickyHeader: 'X-User' })
        .expect(201);
      expect(response.body).toMatchObject({
        name: 'classifier',
        stickyHeader: 'X-User',
        generation: 1,
        routes: [
          { ref: 'ep/resnet:prod', weight: 90, tag: 'prod', version: 1 },
          { ref: 'ep/resnet@2', weight: 10, version: 2 },
        ],
        mirror: { ref: 'ep/resnet@3', weight: 5, version: 3 },
      });
      const listed = await registry.http.get(`${P}/endpoints`).set(auth).expect(200);
      expect(listed.body.items.map((e: { name: string }) => e.name)).toContain('classifier');
      const audit = await registry.registry.dataSource.query(`SELECT action FROM audit_events WHERE target = 'ep/endpoints/classifier'`);
      expect(audit).toEqual([{ action: 'endpoint.create' }]);
    });

    it('routes the same key to the same version, and a tag route follows its tag live', async () => {
      const keys = Array.from({ length: 200 }, (_, index) => `user-${index}`);
      const first = await Promise.all(keys.map((key) => registry.http.get(`${P}/endpoints/classifier/route`).query({ key }).set(auth).expect(200)));
      const second = await Promise.all(keys.map((key) => registry.http.get(`${P}/endpoints/classifier/route`).query({ key }).set(auth).expect(200)));
      expect(second.map((r) => r.body.route.ref)).toEqual(first.map((r) => r.body.route.ref));
      const onTag = first.filter((r) => r.body.route.ref === 'ep/resnet:prod').map((r) => r.body.key as string);
      expect(onTag.length).toBeGreaterThan(150);
      expect(first.find((r) => r.body.route.ref === 'ep/resnet:prod')!.body.route.version).toBe(1);

      const viaHeader = await registry.http.get(`${P}/endpoints/classifier/route`).set(auth).set('X-User', keys[0]).expect(200);
      expect(viaHeader.body).toMatchObject({ key: keys[0], route: { ref: first[0].body.route.ref } });

      await registry.http.put(`${M}/tags/prod`).set(auth).send({ version: 3, reason: 'promote' }).expect(200);
      const moved = await registry.http.get(`${P}/endpoints/classifier/route`).query({ key: onTag[0] }).set(auth).expect(200);
      expect(moved.body.route).toMatchObject({ ref: 'ep/resnet:prod', version: 3 });
    });

    it('over HTTP sends about 10% of keys to the 10% route, and going to 80/20 moves only keys towards it', async () => {
      await registry.http
        .put(`${P}/endpoints/split`)
        .set(auth)
        .send({ routes: [{ ref: 'resnet@1', weight: 90 }, { ref: 'resnet@2', weight: 10 }] })
        .expect(201);
      const keys = Array.from({ length: 2000 }, (_, index) => `k${index}`);
      const pick = async () => {
        const out: number[] = [];
        for (let start = 0; start < keys.length; start += 100) {
          const batch = await Promise.all(
            keys.slice(start, start + 100).map((key) => registry.http.get(`${P}/endpoints/split/route`).query({ key }).set(auth).expect(200)),
          );
          out.push(...batch.map((r) => r.body.route.version as number));
        }
        return out;
      };
      const before = await pick();
      // 2,000 keys over HTTP (the 100,000-key statistics are in routing.spec.ts): a wider band.
      expect(Math.abs(before.filter((v) => v === 2).length / keys.length - 0.1)).toBeLessThan(0.03);
      await registry.http
        .put(`${P}/endpoints/split`)
        .set(auth)
        .send({ routes: [{ ref: 'resnet@1', weight: 80 }, { ref: 'resnet@2', weight: 20 }] })
        .expect(200)
        .expect((r) => expect(r.body.generation).toBe(2));
      const after = await pick();
      const moved = keys.filter((_, index) => before[index] !== after[index]).length / keys.length;
      expect(moved).toBeLessThanOrEqual(0.13);
      expect(keys.every((_, index) => before[index] === after[index] || before[index] === 1)).toBe(true);
    });

    it('refuses to archive a version or delete a tag an endpoint routes to', async () => {
      await registry.http.patch(`${M}/versions/2`).set(auth).send({ state: 'archived' }).expect(409).expect((r) => expect(r.body.code).toBe('version_in_use'));
      await registry.http.post(`${M}/tags/canary/pin`).set(auth).send({ version: 3 }).expect(200);
      await registry.http.post(`${M}/tags/canary/unpin`).set(auth).send({}).expect(200);
      await registry.http.put(`${P}/endpoints/tagged`).set(auth).send({ routes: [{ ref: 'resnet:canary', weight: 100 }] }).expect(201);
      await registry.http.delete(`${M}/tags/canary`).set(auth).expect(409).expect((r) => expect(r.body.code).toBe('tag_in_use'));
      await registry.http.delete(`/api/v1/projects/ep/models/resnet`).set(auth).expect(409).expect((r) => expect(r.body.code).toBe('model_in_use'));
      await registry.http.delete(`${P}/endpoints/tagged`).set(auth).expect(204);
      await registry.http.get(`${P}/endpoints/tagged`).set(auth).expect(404);
      await registry.http.delete(`${M}/tags/canary`).set(auth).expect(204);
    });

    it.each([
      ['a negative weight', { routes: [{ ref: 'resnet@1', weight: -10 }, { ref: 'resnet@2', weight: 110 }] }, 400, 'validation_failed'],
      ['a weight that is not an integer', { routes: [{ ref: 'resnet@1', weight: 89.5 }, { ref: 'resnet@2', weight: 10.5 }] }, 400, 'validation_failed'],
      ['a weight given as a string', { routes: [{ ref: 'resnet@1', weight: '100' }] }, 400, 'validation_failed'],
      ['weights summing to 90', { routes: [{ ref: 'resnet@1', weight: 80 }, { ref: 'resnet@2', weight: 10 }] }, 400, 'validation_failed'],
      ['weights summing to 110', { routes: [{ ref: 'resnet@1', weight: 100 }, { ref: 'resnet@2', weight: 10 }] }, 400, 'validation_failed'],
      ['no routes', { routes: [] }, 400, 'validation_failed'],
      ['an unknown version', { routes: [{ ref: 'resnet@99', weight: 100 }] }, 404, 'version_not_found'],
      ['a draft version', { routes: [{ ref: 'resnet@4', weight: 100 }] }, 409, 'version_not_ready'],
      ['an unknown tag', { routes: [{ ref: 'resnet:nope', weight: 100 }] }, 404, 'tag_not_found'],
      ['an unknown model', { routes: [{ ref: 'bert@1', weight: 100 }] }, 404, 'model_not_found'],
      ['a malformed reference', { routes: [{ ref: 'resnet@@1', weight: 100 }] }, 400, 'invalid_reference'],
      ['a reference without a model', { routes: [{ ref: '@1', weight: 100 }] }, 400, 'invalid_reference'],
      ['a reference into another project', { routes: [{ ref: 'rel/resnet@1', weight: 100 }] }, 400, 'invalid_reference'],
      ['the same route twice', { routes: [{ ref: 'resnet@1', weight: 50 }, { ref: 'ep/resnet@1', weight: 50 }] }, 400, 'validation_failed'],
      ['a mirror above 100%', { routes: [{ ref: 'resnet@1', weight: 100 }], mirror: { ref: 'resnet@2', percent: 101 } }, 400, 'validation_failed'],
      ['a negative mirror', { routes: [{ ref: 'resnet@1', weight: 100 }], mirror: { ref: 'resnet@2', percent: -1 } }, 400, 'validation_failed'],
      ['a mirror to a draft', { routes: [{ ref: 'resnet@1', weight: 100 }], mirror: { ref: 'resnet@4', percent: 10 } }, 409, 'version_not_ready'],
      ['a bad sticky header', { routes: [{ ref: 'resnet@1', weight: 100 }], stickyHeader: 'X User' }, 400, 'validation_failed'],
      ['an unknown field', { routes: [{ ref: 'resnet@1', weight: 100 }], shadow: true }, 400, 'validation_failed'],
    ])('refuses %s and changes nothing', async (_, body, status, code) => {
      const before = await stored();
      const existing = (await registry.http.get(`${P}/endpoints/classifier`).set(auth).expect(200)).body;
      const response = await registry.http.put(`${P}/endpoints/classifier`).set(auth).send(body).expect(status);
      expect(response.body.code).toBe(code);
      expect(await stored()).toEqual(before);
      expect((await registry.http.get(`${P}/endpoints/classifier`).set(auth).expect(200)).body).toEqual(existing);
      const fresh = await registry.http.put(`${P}/endpoints/never`).set(auth).send(body).expect(status);
      expect(fresh.body.code).toBe(code);
      await registry.http.get(`${P}/endpoints/never`).set(auth).expect(404);
    });

    it('refuses malformed endpoint names', async () => {
      const response = await registry.http.put(`${P}/endpoints/Bad_Name`).set(auth).send({ routes: [{ ref: 'resnet@1', weight: 100 }] }).expect(400);
      expect(response.body.code).toBe('invalid_name');
    });
  });
});
