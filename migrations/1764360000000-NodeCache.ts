import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Node cache: the nodes agents report (with what each holds), warm-ups (desired state per
 * project) and a new principal kind for node agents.
 */
export class NodeCache1764360000000 implements MigrationInterface {
  name = 'NodeCache1764360000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Node agents are principals of their own kind: they read every project's versions and
    // report for nodes, and nothing else (see the node-agent access rule).
    await queryRunner.query(`ALTER TABLE principals DROP CONSTRAINT principals_kind_check`);
    await queryRunner.query(`ALTER TABLE principals ADD CONSTRAINT principals_kind_check CHECK (kind IN ('user', 'service', 'node-agent'))`);
    await queryRunner.query(`
      CREATE TABLE nodes (
        name text PRIMARY KEY
          CHECK (length(name) <= 253 AND name ~ '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'),
        labels jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
        capacity_bytes bigint NOT NULL CHECK (capacity_bytes >= 0),
        budget_bytes bigint NOT NULL CHECK (budget_bytes >= 0),
        used_bytes bigint NOT NULL CHECK (used_bytes >= 0),
        agent_version text NOT NULL DEFAULT '',
        demands jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(demands) = 'array'),
        reported_by text NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_heartbeat_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX nodes_heartbeat ON nodes (last_heartbeat_at)`);
    await queryRunner.query(`
      CREATE TABLE node_cache_entries (
        node_name text NOT NULL REFERENCES nodes (name) ON DELETE CASCADE,
        version_id uuid NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
        state text NOT NULL CHECK (state IN ('pending', 'pulling', 'ready', 'evicting', 'failed')),
        bytes_done bigint NOT NULL CHECK (bytes_done >= 0),
        bytes_total bigint NOT NULL CHECK (bytes_total >= 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (node_name, version_id)
      )`);
    await queryRunner.query(`CREATE INDEX node_cache_entries_version ON node_cache_entries (version_id, state)`);
    await queryRunner.query(`
      CREATE TABLE warmups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        model_id uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
        reference text NOT NULL CHECK (length(reference) BETWEEN 1 AND 200),
        match_labels jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(match_labels) = 'object'),
        max_nodes integer CHECK (max_nodes >= 1),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX warmups_project ON warmups (project_id, created_at, id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE warmups`);
    await queryRunner.query(`DROP TABLE node_cache_entries`);
    await queryRunner.query(`DROP TABLE nodes`);
    await queryRunner.query(`DELETE FROM principals WHERE kind = 'node-agent'`);
    await queryRunner.query(`ALTER TABLE principals DROP CONSTRAINT principals_kind_check`);
    await queryRunner.query(`ALTER TABLE principals ADD CONSTRAINT principals_kind_check CHECK (kind IN ('user', 'service'))`);
  }
}
