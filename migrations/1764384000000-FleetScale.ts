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
  }

  async down(queryRunner: QueryRunner): Promise<void> {
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
