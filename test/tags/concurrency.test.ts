import { auth, seedModel } from '../support/release-fixtures';
import { TEST_DATABASE_URL } from '../support/test-database';
import { startTestRegistry, TestRegistry } from '../support/test-registry';

/**
 * Races between release operations. They only race on a real PostgreSQL (TEST_DATABASE_URL, as
 * CI sets it): embedded PGlite is one session, so there every request runs alone and these
 * tests check the same rules without the interleaving.
 */
const P = '/api/v1/projects/race';
const M = `${P}/models/resnet`;

interface Answer {
  op: string;
  status: number;
  code?: string;
}

interface HistoryEntry {
  seq: number;
  action: string;
  from: number | null;
  to: number | null;
}

describe('concurrent release operations', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    // Enough connections for every request of a burst to be inside its transaction at once;
    // no rate limit, since these bursts are one client sending thousands of writes on purpose.
    registry = await startTestRegistry({ DATABASE_POOL_SIZE: '30', RATE_LIMIT_ENABLED: 'false' });
    await seedModel(registry.http, 'race', 'resnet', 4);
    // Starting the embedded database alone can take most of a minute on a busy machine.
  }, 120_000);
  afterAll(async () => registry?.close());

  /** Answers a request's outcome: 2xx (as 200) or the problem's status and code. */
  const send = async (op: string, request: PromiseLike<{ status: number; body: { code?: string } }>): Promise<Answer> => {
    const response = await request;
    return response.status < 300 ? { op, status: 200 } : { op, status: response.status, code: response.body.code };
  };

  /** The whole history, oldest first. */
  const history = async (model: string, tag: string): Promise<HistoryEntry[]> => {
    const entries: HistoryEntry[] = [];
    let before: number | null = null;
    do {
      const page: { body: { items: HistoryEntry[]; nextBefore: number | null } } = await registry.http
        .get(`${P}/models/${model}/tags/${tag}/history`)
        .query({ limit: 200, ...(before === null ? {} : { before }) })
        .set(auth)
        .expect(200);
      entries.push(...page.body.items);
      before = page.body.nextBefore;
    } while (before !== null);
    return entries.reverse();
  };

  /** Every change follows from the one before it, numbered without gaps, each audited once. */
  const expectConsistentHistory = async (model: string, tag: string): Promise<HistoryEntry[]> => {
    const entries = await history(model, tag);
    expect(entries.map((entry) => entry.seq)).toEqual(entries.map((_, index) => index + 1));
    for (let index = 1; index < entries.length; index++) {
      const previous = entries[index - 1];
      expect({ seq: entries[index].seq, from: entries[index].from }).toEqual({
        seq: entries[index].seq,
        from: previous.action === 'delete' ? null : previous.to,
      });
    }
    const [{ n }]: { n: number }[] = await registry.registry.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE target = $1 AND action LIKE 'tag.%'`,
      [`race/${model}:${tag}`],
    );
    expect(n).toBe(entries.length);
    const current = await registry.http.get(`${P}/models/${model}/tags/${tag}`).set(auth);
    const last = entries[entries.length - 1];
    if (last.action === 'delete') {
      expect(current.status).toBe(404);
    } else {
      expect(current.body).toMatchObject({ version: last.to, pinned: last.action === 'pin' || last.action === 'rollback' });
    }
    return entries;
  };

  it('points latest at the newest version after 20 drafts are committed at once, 20 times out of 20', async () => {
    await seedModel(registry.http, 'race', 'burst', 1);
    const base = `${P}/models/burst`;
    const behind: number[] = [];
    // The repetitions are there to catch a race, and only a real PostgreSQL can race.
    const runs = TEST_DATABASE_URL ? 20 : 3;
    for (let run = 0; run < runs; run++) {
      const drafts = await Promise.all(
        Array.from({ length: 20 }, async () => (await registry.http.post(`${base}/versions`).set(auth).send({}).expect(201)).body.number as number),
      );
      // Setup only, to keep 20 runs fast: each draft gets version 1's file (the same blob)
      // directly; the commits below are what the test is about, and they go through HTTP.
      await registry.registry.dataSource.query(
        `INSERT INTO version_files (version_id, path, project_id, sha256, size)
         SELECT d.id, f.path, f.project_id, f.sha256, f.size
           FROM model_versions d
           JOIN model_versions first ON first.model_id = d.model_id AND first.number = 1
           JOIN version_files f ON f.version_id = first.id
           JOIN models m ON m.id = d.model_id AND m.name = 'burst'
          WHERE d.number = ANY($1)`,
        [drafts],
      );
      // Newest first: an older commit that arrives later must not pull latest back.
      drafts.sort((a, b) => b - a);
      const answers = await Promise.all(drafts.map((number) => send('commit', registry.http.post(`${base}/versions/${number}/commit`).set(auth))));
      expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
      const latest = (await registry.http.get(`${base}/tags/latest`).set(auth).expect(200)).body.version as number;
      if (latest !== drafts[0]) behind.push(latest);
    }
    expect(behind).toEqual([]);
    expect((await expectConsistentHistory('burst', 'latest')).pop()).toMatchObject({ action: 'follow', to: 1 + runs * 20 });
    // 800 requests: a few seconds on a quiet machine, far more on a busy CI runner.
  }, 180_000);

  it('answers concurrent moves, pins, unpins and rollbacks of one tag with 200 or 409 only, and records each change once', async () => {
    const tag = `${M}/tags/prod`;
    const answers: Answer[] = [];
    for (let round = 0; round < 5; round++) {
      await registry.http.post(`${tag}/unpin`).set(auth).send({});
      for (const version of [1, 2, 3]) await registry.http.put(tag).set(auth).send({ version }).expect(200);
      const before = (await history('resnet', 'prod')).length;
      const burst = Array.from({ length: 30 }, (_, index) => {
        if (index === 13) return send('pin', registry.http.post(`${tag}/pin`).set(auth).send({ reason: `hold ${round}` }));
        if (index === 21) return send('unpin', registry.http.post(`${tag}/unpin`).set(auth).send({}));
        if (index % 3 === 1) return send('rollback', registry.http.post(`${tag}/rollback`).set(auth).send({ reason: `round ${round}` }));
        return send('move', registry.http.put(tag).set(auth).send({ version: 1 + (index % 4) }));
      });
      const roundAnswers = await Promise.all(burst);
      answers.push(...roundAnswers);
      const added = (await expectConsistentHistory('resnet', 'prod')).slice(before);
      const succeeded = (op: string) => roundAnswers.filter((answer) => answer.op === op && answer.status === 200).length;
      const recorded = (action: string) => added.filter((entry) => entry.action === action).length;
      // A move or a rollback that answered 200 changed the tag; pin and unpin of a tag already so change nothing.
      expect({ move: recorded('move'), rollback: recorded('rollback') }).toEqual({ move: succeeded('move'), rollback: succeeded('rollback') });
      expect(recorded('pin')).toBeLessThanOrEqual(succeeded('pin'));
      expect(recorded('unpin')).toBeLessThanOrEqual(succeeded('unpin'));
    }
    const refused = answers.filter((answer) => answer.status !== 200);
    expect(refused.filter((answer) => answer.status !== 409 || !['tag_pinned', 'no_rollback_target'].includes(answer.code!))).toEqual([]);
    expect(answers.filter((answer) => answer.op === 'rollback' && answer.status === 200).length).toBeGreaterThanOrEqual(5);
  });

  it('deletes a tag while it is being moved without a false 404, and moves after the delete create it again', async () => {
    const tag = `${M}/tags/canary`;
    for (let round = 0; round < 5; round++) {
      await registry.http.put(tag).set(auth).send({ version: 1 }).expect(200);
      const burst = Array.from({ length: 20 }, (_, index) =>
        index === 10 ? send('delete', registry.http.delete(tag).set(auth).send({})) : send('move', registry.http.put(tag).set(auth).send({ version: 1 + (index % 4) })),
      );
      const answers = await Promise.all(burst);
      expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
      await expectConsistentHistory('resnet', 'canary');
    }
  });

  it('resolves a tag named by another tag or by an endpoint route while that tag moves', async () => {
    await registry.http.put(`${M}/tags/staging`).set(auth).send({ version: 1 }).expect(200);
    for (let round = 0; round < 5; round++) {
      const burst = Array.from({ length: 24 }, (_, index) => {
        if (index % 4 === 1) return send('follow', registry.http.put(`${M}/tags/mirror`).set(auth).send({ ref: ':staging' }));
        if (index % 4 === 3) {
          return send('route', registry.http.put(`${P}/endpoints/web`).set(auth).send({ routes: [{ ref: 'resnet:staging', weight: 100 }] }));
        }
        return send('move', registry.http.put(`${M}/tags/staging`).set(auth).send({ version: 1 + (index % 4) }));
      });
      const answers = await Promise.all(burst);
      expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    }
    await expectConsistentHistory('resnet', 'staging');
    await expectConsistentHistory('resnet', 'mirror');
  });

  it('rolls latest back while the versions it follows are archived and restored, answering 2xx or 409 only', async () => {
    await seedModel(registry.http, 'race', 'churn', 4);
    const base = `${P}/models/churn`;
    const answers: Answer[] = [];
    for (let round = 0; round < 10; round++) {
      await registry.http.post(`${base}/tags/latest/unpin`).set(auth).send({}).expect(200);
      for (const number of [3, 4]) await registry.http.patch(`${base}/versions/${number}`).set(auth).send({ state: 'ready' });
      const burst = Array.from({ length: 16 }, (_, index) => {
        if (index % 4 === 0) return send('rollback', registry.http.post(`${base}/tags/latest/rollback`).set(auth).send({}));
        if (index % 4 === 2) return send('unpin', registry.http.post(`${base}/tags/latest/unpin`).set(auth).send({}));
        const state = index % 8 < 4 ? 'archived' : 'ready';
        return send('archive', registry.http.patch(`${base}/versions/${3 + (index % 2)}`).set(auth).send({ state }));
      });
      answers.push(...(await Promise.all(burst)));
      await expectConsistentHistory('churn', 'latest');
    }
    const allowed = ['tag_pinned', 'no_rollback_target', 'version_in_use', 'version_state_conflict'];
    expect(answers.filter((answer) => answer.status !== 200 && (answer.status !== 409 || !allowed.includes(answer.code!)))).toEqual([]);
  });

  it('stores endpoint routes to a version and to latest while that version is archived and restored, answering 2xx or 409 only', async () => {
    await seedModel(registry.http, 'race', 'routed', 4);
    const base = `${P}/models/routed`;
    const answers: Answer[] = [];
    for (let round = 0; round < 10; round++) {
      await registry.http.delete(`${P}/endpoints/both`).set(auth);
      await registry.http.patch(`${base}/versions/3`).set(auth).send({ state: 'ready' });
      const burst = Array.from({ length: 12 }, (_, index) =>
        index % 3 === 0
          ? send('archive', registry.http.patch(`${base}/versions/3`).set(auth).send({ state: index % 2 ? 'ready' : 'archived' }))
          : send('route', registry.http.put(`${P}/endpoints/both`).set(auth).send({ routes: [{ ref: 'routed@3', weight: 50 }, { ref: 'routed:latest', weight: 50 }] })),
      );
      answers.push(...(await Promise.all(burst)));
    }
    const allowed = ['version_in_use', 'version_not_ready', 'version_state_conflict'];
    expect(answers.filter((answer) => answer.status !== 200 && (answer.status !== 409 || !allowed.includes(answer.code!)))).toEqual([]);
  });

  it('moves two tags to each other at once without a deadlock', async () => {
    for (const tag of ['alpha', 'beta']) await registry.http.put(`${M}/tags/${tag}`).set(auth).send({ version: 1 }).expect(200);
    const answers: Answer[] = [];
    for (let round = 0; round < 10; round++) {
      const burst = Array.from({ length: 12 }, (_, index) =>
        index % 2
          ? send('alpha', registry.http.put(`${M}/tags/alpha`).set(auth).send({ ref: ':beta' }))
          : send('beta', registry.http.put(`${M}/tags/beta`).set(auth).send({ ref: ':alpha' })),
      );
      answers.push(...(await Promise.all(burst)));
    }
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
  });
});
