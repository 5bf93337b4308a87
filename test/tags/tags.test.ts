import { auth, seedModel } from '../support/release-fixtures';
import { startTestRegistry, TestRegistry } from '../support/test-registry';

const M = '/api/v1/projects/rel/models/resnet';

describe('tags', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startTestRegistry();
    // versions 1-4 ready, 5 a draft
    await seedModel(registry.http, 'rel', 'resnet', 4, 1);
  });
  afterAll(async () => registry?.close());

  const history = async (tag: string) => (await registry.http.get(`${M}/tags/${tag}/history?limit=200`).set(auth).expect(200)).body.items;

  it('moves a tag with a reason and keeps every move in its history', async () => {
    const first = await registry.http.put(`${M}/tags/prod`).set(auth).send({ version: 1, reason: 'first release' }).expect(200);
    expect(first.body).toMatchObject({ name: 'prod', version: 1, pinned: false, reference: 'rel/resnet:prod' });
    await registry.http.put(`${M}/tags/prod`).set(auth).send({ ref: '@2', reason: 'better top1' }).expect(200);
    const entries = await history('prod');
    expect(entries.map((e: { seq: number; action: string; from: number | null; to: number }) => [e.seq, e.action, e.from, e.to])).toEqual([
      [2, 'move', 1, 2],
      [1, 'move', null, 1],
    ]);
    expect(entries[0]).toMatchObject({ actor: 'admin', reason: 'better top1' });
    const audit = await registry.registry.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'tag.move' AND target = 'rel/resnet:prod'`);
    expect(audit[0].n).toBe(2);
    const listed = await registry.http.get(`${M}/tags`).set(auth).expect(200);
    expect(listed.body.items.map((t: { name: string }) => t.name)).toEqual(['latest', 'prod']);
  });

  it('keeps latest on the newest ready version, through commits, archives and deletes', async () => {
    const tag = async () => (await registry.http.get(`${M}/tags/latest`).set(auth).expect(200)).body;
    expect(await tag()).toMatchObject({ version: 4, automatic: true });
    await registry.http.put(`${M}/tags/latest`).set(auth).send({ version: 1 }).expect(409).expect((r) => expect(r.body.code).toBe('tag_automatic'));
    await registry.http.patch(`${M}/versions/4`).set(auth).send({ state: 'archived' }).expect(200);
    expect((await tag()).version).toBe(3);
    await registry.http.patch(`${M}/versions/4`).set(auth).send({ state: 'ready' }).expect(200);
    expect((await tag()).version).toBe(4);
    const actions = (await history('latest')).map((e: { action: string; to: number }) => [e.action, e.to]);
    expect(actions.slice(0, 2)).toEqual([
      ['follow', 4],
      ['follow', 3],
    ]);
  });

  it('refuses to archive or delete a version a tag points at, and changes nothing', async () => {
    const audits = await registry.count('audit_events');
    const archive = await registry.http.patch(`${M}/versions/2`).set(auth).send({ state: 'archived' }).expect(409);
    expect(archive.body).toMatchObject({ code: 'version_in_use', tags: ['prod'] });
    await registry.http.delete(`${M}/versions/2`).set(auth).expect(409);
    expect((await registry.http.get(`${M}/versions/2`).set(auth).expect(200)).body.state).toBe('ready');
    expect(await registry.count('audit_events')).toBe(audits);
  });

  it('rolls back after three moves to the previous version, pins it, and refuses moves until unpinned', async () => {
    for (const version of [1, 2, 3]) await registry.http.put(`${M}/tags/stable`).set(auth).send({ version }).expect(200);
    const rolled = await registry.http.post(`${M}/tags/stable/rollback`).set(auth).send({ reason: 'v3 regressed' }).expect(200);
    expect(rolled.body).toMatchObject({ version: 2, pinned: true, pinnedBy: 'admin' });
    const refused = await registry.http.put(`${M}/tags/stable`).set(auth).send({ version: 4 }).expect(409);
    expect(refused.body).toMatchObject({ code: 'tag_pinned', version: 2 });
    await registry.http.post(`${M}/tags/stable/rollback`).set(auth).send({}).expect(409).expect((r) => expect(r.body.code).toBe('tag_pinned'));
    await registry.http.delete(`${M}/tags/stable`).set(auth).expect(409);
    await registry.http.post(`${M}/tags/stable/unpin`).set(auth).send({ reason: 'fixed' }).expect(200).expect((r) => expect(r.body.pinned).toBe(false));
    await registry.http.put(`${M}/tags/stable`).set(auth).send({ version: 4 }).expect(200);
    const entries = (await history('stable')).map((e: { action: string; from: number | null; to: number | null; reason: string }) => [e.action, e.from, e.to]);
    expect(entries).toEqual([
      ['move', 2, 4],
      ['unpin', 2, 2],
      ['rollback', 3, 2],
      ['move', 2, 3],
      ['move', 1, 2],
      ['move', null, 1],
    ]);
    const audited = await registry.registry.dataSource.query(
      `SELECT action FROM audit_events WHERE target = 'rel/resnet:stable' ORDER BY id`,
    );
    expect(audited.map((row: { action: string }) => row.action)).toEqual(['tag.move', 'tag.move', 'tag.move', 'tag.rollback', 'tag.unpin', 'tag.move']);
  });

  it('pins a tag at a given version, creating it, and answers the same pin unchanged', async () => {
    const pinned = await registry.http.post(`${M}/tags/frozen/pin`).set(auth).send({ version: 3, reason: 'audit freeze' }).expect(200);
    expect(pinned.body).toMatchObject({ version: 3, pinned: true });
    await registry.http.post(`${M}/tags/frozen/pin`).set(auth).send({ version: 3 }).expect(200);
    await registry.http.post(`${M}/tags/frozen/pin`).set(auth).send({ version: 1 }).expect(409).expect((r) => expect(r.body.code).toBe('tag_pinned'));
    expect((await history('frozen')).length).toBe(1);
  });

  it('has no rollback target for a tag that only ever pointed at one version', async () => {
    await registry.http.put(`${M}/tags/solo`).set(auth).send({ version: 1 }).expect(200);
    await registry.http.post(`${M}/tags/solo/rollback`).set(auth).send({}).expect(409).expect((r) => expect(r.body.code).toBe('no_rollback_target'));
  });

  it('deletes a tag and keeps its history', async () => {
    await registry.http.put(`${M}/tags/tmp`).set(auth).send({ version: 2 }).expect(200);
    await registry.http.delete(`${M}/tags/tmp?reason=cleanup`).set(auth).expect(204);
    await registry.http.get(`${M}/tags/tmp`).set(auth).expect(404);
    expect((await history('tmp'))[0]).toMatchObject({ action: 'delete', from: 2, to: null, reason: 'cleanup' });
  });

  it.each([
    ['a draft version', { version: 5 }, 409, 'version_not_ready'],
    ['an unknown version', { version: 99 }, 404, 'version_not_found'],
    ['a malformed reference', { ref: '@sha256:xyz' }, 400, 'invalid_reference'],
    ['a reference to another model', { ref: 'bert@1' }, 400, 'invalid_reference'],
    ['both version and ref', { version: 1, ref: '@1' }, 400, 'validation_failed'],
    ['neither version nor ref', { reason: 'x' }, 400, 'validation_failed'],
    ['a version that is not an integer', { version: 1.5 }, 400, 'validation_failed'],
    ['a version given as a string', { version: '2' }, 400, 'validation_failed'],
    ['an unknown field', { version: 1, force: true }, 400, 'validation_failed'],
    ['an unknown tag to copy', { ref: ':nope' }, 404, 'tag_not_found'],
  ])('refuses a move to %s and changes nothing', async (_, body, status, code) => {
    const before = [await registry.count('tags'), await registry.count('tag_history'), await registry.count('audit_events')];
    const response = await registry.http.put(`${M}/tags/prod`).set(auth).send(body).expect(status);
    expect(response.body.code).toBe(code);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect([await registry.count('tags'), await registry.count('tag_history'), await registry.count('audit_events')]).toEqual(before);
    expect((await registry.http.get(`${M}/tags/prod`).set(auth).expect(200)).body.version).toBe(2);
  });

  it('drops latest with the last ready version, resolves digests to the first ready version, and deletes tags with their model', async () => {
    await seedModel(registry.http, 'rel', 'life', 2, 0, { sameContent: true });
    const L = '/api/v1/projects/rel/models/life';
    const digest = (await registry.http.get(`${L}/versions/1`).set(auth).expect(200)).body.manifestDigest;
    const byDigest = async () => (await registry.http.get(`${L}/resolve`).query({ ref: `@${digest}` }).set(auth).expect(200)).body;
    expect((await byDigest()).number).toBe(1);
    await registry.http.patch(`${L}/versions/1`).set(auth).send({ state: 'archived' }).expect(200);
    expect((await byDigest()).number).toBe(2);
    expect((await registry.http.get(`${L}/resolve?ref=@1`).set(auth).expect(200)).body.state).toBe('archived');
    await registry.http.patch(`${L}/versions/2`).set(auth).send({ state: 'archived' }).expect(200);
    await registry.http.get(`${L}/tags/latest`).set(auth).expect(404);
    const latest = (await registry.http.get(`${L}/tags/latest/history`).set(auth).expect(200)).body.items;
    expect(latest[0]).toMatchObject({ action: 'delete', from: 2, to: null });
    expect(await byDigest()).toMatchObject({ number: 1, state: 'archived' });
    await registry.http.patch(`${L}/versions/2`).set(auth).send({ state: 'ready' }).expect(200);
    await registry.http.put(`${L}/tags/keep`).set(auth).send({ version: 2 }).expect(200);
    await registry.http.delete(L).set(auth).expect(204);
    const left = await registry.registry.dataSource.query(`SELECT count(*)::int AS n FROM tag_history WHERE tag = 'keep'`);
    expect(left[0].n).toBe(0);
  });

  it('refuses malformed tag names', async () => {
    const response = await registry.http.put(`${M}/tags/-bad`).set(auth).send({ version: 1 }).expect(400);
    expect(response.body.code).toBe('invalid_name');
  });

  it('serializes 100 concurrent moves: each success is in the history once, in one order, and the tag ends where it says', async () => {
    await registry.http.put(`${M}/tags/race`).set(auth).send({ version: 1, reason: 'start' }).expect(200);
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        registry.http.put(`${M}/tags/race`).set(auth).send({ version: (index % 4) + 1, reason: `move-${index}` }),
      ),
    );
    const succeeded = responses.filter((response) => response.status === 200).map((response) => response.request.url);
    expect(succeeded.length).toBe(100);
    const entries = [...(await history('race'))].reverse();
    expect(entries.map((e: { seq: number }) => e.seq)).toEqual(Array.from({ length: 101 }, (_, index) => index + 1));
    const reasons = entries.slice(1).map((e: { reason: string }) => e.reason).sort();
    expect(reasons).toEqual(Array.from({ length: 100 }, (_, index) => `move-${index}`).sort());
    for (let index = 1; index < entries.length; index++) expect(entries[index].from).toBe(entries[index - 1].to);
    const tag = await registry.http.get(`${M}/tags/race`).set(auth).expect(200);
    expect(tag.body.version).toBe(entries[entries.length - 1].to);
    for (const entry of entries.slice(1)) {
      const index = Number(entry.reason.slice('move-'.length));
      expect(entry.to).toBe((index % 4) + 1);
    }
  });
});
