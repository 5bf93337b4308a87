import { Client } from 'pg';
import supertest from 'supertest';
import { bytes, eventually, nodeAgentToken, publishVersion } from '../support/node-cache';
import { RegistryProcess, startRegistryProcess } from '../support/registry-process';
import { createSharedDatabase, TestDatabase } from '../support/test-database';
import { ADMIN_TOKEN, bearer } from '../support/test-registry';

/**
 * Capped warm-ups at fleet scale: their nodes are kept in Postgres and move only when the
 * fleet changes, the same through either of two registry processes sharing one database.
 */
describe('capped warm-ups placed once and kept, across two registry replicas', () => {
  let database: TestDatabase;
  let replicas: RegistryProcess[];
  let db: Client;
  let agentToken: string;
  const NODES = Array.from({ length: 12 }, (_, i) => `fleet-${String(i).padStart(2, '0')}`);
  const warmupIds: string[] = [];

  const http = (i: number) => supertest(replicas[i % 2].url);
  const beat = (node: string, replica: number, labels: Record<string, string> = { pool: 'gpu' }) =>
    http(replica)
      .put(`/api/v1/nodes/${node}`)
      .set(bearer(agentToken))
      .send({ labels, capacityBytes: 1000, budgetBytes: 800, usedBytes: 0, entries: [], demands: [] });
  /** Warm-up id → the nodes it is assigned to, as the nodes' own heartbeats answer. */
  const assignedByHeartbeats = async (nodes: string[], round: number): Promise<Map<string, string[]>> => {
    const placed = new Map<string, string[]>(warmupIds.map((id) => [id, []]));
    for (const [i, node] of nodes.entries()) {
      const reply = await beat(node, i + round).expect(200);
      for (const assignment of reply.body.assignments as { reasons: string[] }[]) {
        for (const reason of assignment.reasons) placed.get(reason.replace(/^warmup:/, ''))?.push(node);
      }
    }
    for (const list of placed.values()) list.sort();
    return placed;
  };
  const placedNodes = async (id: string, replica: number): Promise<string[]> =>
    ((await http(replica).get(`/api/v1/projects/fleet/warmups/${id}`).set(bearer(ADMIN_TOKEN)).expect(200)).body.placedNodes as string[]).slice().sort();

  beforeAll(async () => {
    database = await createSharedDatabase();
    replicas = [await startRegistryProcess({ DATABASE_URL: database.url }), await startRegistryProcess({ DATABASE_URL: database.url })];
    db = new Client({ connectionString: database.url });
    await db.connect();
    const admin = supertest(replicas[0].url);
    await admin.post('/api/v1/projects').set(bearer(ADMIN_TOKEN)).send({ name: 'fleet' }).expect(201);
    await admin.post('/api/v1/projects/fleet/models').set(bearer(ADMIN_TOKEN)).send({ name: 'm' }).expect(201);
    await publishVersion(replicas[0].url, 'fleet', 'm', [{ path: 'w.bin', data: bytes(1000, 7) }]);
    agentToken = await nodeAgentToken(replicas[0].url);
    for (const [i, node] of NODES.entries()) await beat(node, i).expect(200);
  }, 120_000);
  afterAll(async () => {
    await db?.end();
    for (const replica of replicas ?? []) await replica.stop();
    await database?.drop();
  });

  it('places each capped warm-up on exactly maxNodes nodes, once, while both replicas serve heartbeats at once', async () => {
    for (let i = 0; i < 8; i++) {
      const created = await http(i)
        .post('/api/v1/projects/fleet/warmups')
        .set(bearer(ADMIN_TOKEN))
        .send({ model: 'm', ref: '@1', selector: { matchLabels: { pool: 'gpu' } }, maxNodes: 3 });
      expect(created.status).toBe(201);
      expect(created.body.placedNodes).toEqual([]);
      warmupIds.push(created.body.id);
    }
    // Both replicas see the stale warm-ups at once; each warm-up's row lock lets one place it.
    await Promise.all(NODES.map((node, i) => beat(node, i).expect(200)));
    for (const id of warmupIds) expect(await placedNodes(id, 0)).toHaveLength(3);
    const rows = await db.query(`SELECT warmup_id, count(*)::int AS n FROM warmup_assignments GROUP BY warmup_id`);
    expect(rows.rows.map((row) => row.n)).toEqual(warmupIds.map(() => 3));
  });

  it('answers the same nodes on every heartbeat through either replica', async () => {
    const placed = new Map<string, string[]>();
    for (const id of warmupIds) placed.set(id, await placedNodes(id, 1));
    for (let round = 0; round < 3; round++) expect(await assignedByHeartbeats(NODES, round)).toEqual(placed);
    const spread = new Set([...placed.values()].flat());
    expect(spread.size).toBeGreaterThan(3);
  });

  it('moves nothing when a node joins warm-ups that are full', async () => {
    const before = await assignedByHeartbeats(NODES, 0);
    await beat('fleet-new', 1).expect(200);
    expect(await assignedByHeartbeats([...NODES, 'fleet-new'], 1)).toEqual(before);
  });

  it('moves only the share of a node that goes silent, and of one that is deleted', async () => {
    const nodes = [...NODES, 'fleet-new'];
    for (const leaving of ['silent', 'deleted'] as const) {
      const before = await assignedByHeartbeats(nodes, 0);
      const gone = nodes.find((node) => [...before.values()].some((list) => list.includes(node)))!;
      nodes.splice(nodes.indexOf(gone), 1);
      if (leaving === 'deleted') await http(1).delete(`/api/v1/nodes/${gone}`).set(bearer(ADMIN_TOKEN)).expect(204);
      // Silence without waiting out NODE_READY_TIMEOUT_SECONDS: its last heartbeat is made old.
      else await db.query(`UPDATE nodes SET last_heartbeat_at = now() - interval '1 day' WHERE name = $1`, [gone]);
      const after = (await eventually(async () => {
        const now = await assignedByHeartbeats(nodes, 1);
        return [...now.values()].every((list) => list.length === 3) ? now : null;
      }, `the places of ${gone} to move`))!;
      for (const [id, was] of before) {
        const kept = was.filter((node) => node !== gone);
        expect(after.get(id)!.filter((node) => kept.includes(node))).toEqual(kept);
        expect(after.get(id)).toHaveLength(3);
        if (!was.includes(gone)) expect(after.get(id)).toEqual(was);
      }
    }
  });
});
