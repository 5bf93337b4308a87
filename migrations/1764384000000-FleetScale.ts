import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fleet scale (issue 22): heartbeats and assignments whose cost does not grow with the fleet.
 * - `warmup_assignments` keeps the nodes a capped warm-up chose, so a heartbeat reads its own
 *   rows instead of ranking every node; `warmups.placement_stale` marks the warm-ups whose
 *   choice must be made again (created, a chosen node left, a vacancy and a node joined).
 * - `nodes.assignable` is the readiness placement last saw, so a node going silent is noticed
 *   once (by a sweep over the partial index) instead of on every heartbeat.
 * - `nodes.inventory_sequence` is the last heartbeat sequence whose inventory was applied: a
 *   delta is applied only on top of the one it was computed from.
 * - Indexes for label-selector lists of nodes and for `sort=createdAt` over a model's versions.
 */
/**
 * The common heartbeat (a delta from a known node whose labels and budget did not change, on
 * the base it names, far enough under the entry limit) as one function: its statements'
 * plans are cached per connection, where the same statement sent as text is planned again on
 * every heartbeat (planning was most of its cost). No row back means "take the full path":
 * the caller then registers, audits, checks the limit exactly or asks for a resync. Otherwise
 * one row per model whose entry became ready (ready_model null when none), with the number of
 * entries that are new.
 */
const HEARTBEAT_DELTA = `
  CREATE FUNCTION node_heartbeat_delta(
    p_name text, p_upserts jsonb, p_removals jsonb, p_labels jsonb, p_capacity bigint, p_budget bigint, p_used bigint,
    p_agent text, p_demands jsonb, p_reported_by text, p_sequence bigint, p_since bigint, p_max_entries integer
  ) RETURNS TABLE (ready_model uuid, new_entries integer) LANGUAGE plpgsql AS $fn$
  BEGIN
    PERFORM 1 FROM nodes
      WHERE name = p_name AND assignable AND labels = p_labels AND budget_bytes = p_budget AND inventory_sequence = p_since
      FOR NO KEY UPDATE;
    IF NOT FOUND THEN RETURN; END IF;
    IF (SELECT count(*) FROM node_cache_entries WHERE node_name = p_name) + jsonb_array_length(p_upserts) > p_max_entries THEN RETURN; END IF;
    UPDATE nodes SET capacity_bytes = p_capacity, used_bytes = p_used, agent_version = p_agent, demands = p_demands,
           reported_by = p_reported_by, last_heartbeat_at = now(), inventory_sequence = p_sequence
     WHERE name = p_name;
    DELETE FROM node_cache_entries e
     USING jsonb_to_recordset(p_removals) AS r(project text, model text, version int), projects p, models m, model_versions v
     WHERE p.name = r.project AND m.project_id = p.id AND m.name = r.model AND v.model_id = m.id AND v.number = r.version
       AND e.node_name = p_name AND e.version_id = v.id;
    RETURN QUERY
      WITH incoming AS (
        SELECT v.id AS version_id, x.state, x."bytesDone" AS bytes_done, x."bytesTotal" AS bytes_total
          FROM jsonb_to_recordset(p_upserts) AS x(project text, model text, version int, state text, "bytesDone" bigint, "bytesTotal" bigint)
          JOIN projects p ON p.name = x.project
          JOIN models m ON m.project_id = p.id AND m.name = x.model
          JOIN model_versions v ON v.model_id = m.id AND v.number = x.version
      ), before AS (
        SELECT c.version_id, c.state FROM node_cache_entries c
         WHERE c.node_name = p_name AND c.version_id IN (SELECT i.version_id FROM incoming i)
      ), written AS (
        INSERT INTO node_cache_entries AS c (node_name, version_id, state, bytes_done, bytes_total)
        SELECT p_name, i.version_id, i.state, i.bytes_done, i.bytes_total FROM incoming i
        ON CONFLICT (node_name, version_id) DO UPDATE
           SET state = EXCLUDED.state, bytes_done = EXCLUDED.bytes_done, bytes_total = EXCLUDED.bytes_total, updated_at = now()
         WHERE (c.state, c.bytes_done, c.bytes_total) IS DISTINCT FROM (EXCLUDED.state, EXCLUDED.bytes_done, EXCLUDED.bytes_total)
        RETURNING c.version_id, c.state, c.xmax = 0 AS is_new
      )
      SELECT DISTINCT v.model_id, (SELECT count(*)::int FROM written w2 WHERE w2.is_new)
        FROM (SELECT 1) one
        LEFT JOIN written w ON w.state = 'ready'
        LEFT JOIN before b ON b.version_id = w.version_id
        LEFT JOIN model_versions v ON v.id = w.version_id AND b.state IS DISTINCT FROM 'ready';
  END
  $fn$`;

export class FleetScale1764384000000 implements MigrationInterface {
  name = 'FleetScale1764384000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE nodes ADD COLUMN assignable boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`ALTER TABLE nodes ADD COLUMN inventory_sequence bigint CHECK (inventory_sequence >= 0)`);
    await queryRunner.query(`CREATE INDEX nodes_assignable_heartbeat ON nodes (last_heartbeat_at) WHERE assignable`);
    await queryRunner.query(`CREATE INDEX nodes_labels ON nodes USING gin (labels jsonb_path_ops)`);
    await queryRunner.query(`ALTER TABLE warmups ADD COLUMN placement_stale boolean NOT NULL DEFAULT true`);
    await queryRunner.query(`CREATE INDEX warmups_placement_stale ON warmups (id) WHERE placement_stale AND max_nodes IS NOT NULL`);
    await queryRunner.query(`
      CREATE TABLE warmup_assignments (
        warmup_id uuid NOT NULL REFERENCES warmups (id) ON DELETE CASCADE,
        node_name text NOT NULL REFERENCES nodes (name) ON DELETE CASCADE,
        assigned_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (warmup_id, node_name)
      )`);
    await queryRunner.query(`CREATE INDEX warmup_assignments_node ON warmup_assignments (node_name)`);
    await queryRunner.query(`CREATE INDEX model_versions_model_created ON model_versions (model_id, created_at, id)`);
    await queryRunner.query(HEARTBEAT_DELTA);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION node_heartbeat_delta`);
    await queryRunner.query(`DROP INDEX model_versions_model_created`);
    await queryRunner.query(`DROP TABLE warmup_assignments`);
    await queryRunner.query(`DROP INDEX warmups_placement_stale`);
    await queryRunner.query(`ALTER TABLE warmups DROP COLUMN placement_stale`);
    await queryRunner.query(`DROP INDEX nodes_labels`);
    await queryRunner.query(`DROP INDEX nodes_assignable_heartbeat`);
    await queryRunner.query(`ALTER TABLE nodes DROP COLUMN inventory_sequence`);
    await queryRunner.query(`ALTER TABLE nodes DROP COLUMN assignable`);
  }
}
