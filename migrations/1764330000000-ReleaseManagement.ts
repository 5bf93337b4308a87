import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Release management: tags (with an append-only history) and endpoints (weighted routes).
 * Foreign keys are NO ACTION (checked at the end of the statement), so deleting a model
 * cascades through its versions and tags together, while a version still referenced by a tag
 * or an endpoint route can never disappear underneath it.
 */
export class ReleaseManagement1764330000000 implements MigrationInterface {
  name = 'ReleaseManagement1764330000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE tags (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        model_id uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
        name text NOT NULL CHECK (name ~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'),
        version_id uuid NOT NULL REFERENCES model_versions (id),
        pinned boolean NOT NULL DEFAULT false,
        pinned_by text,
        pinned_at timestamptz,
        updated_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (model_id, name),
        CHECK (pinned = (pinned_at IS NOT NULL))
      )`);
    await queryRunner.query(`CREATE INDEX tags_version ON tags (version_id)`);
    // Append-only: one row per change of a tag, numbered per tag under the tag's row lock, so
    // the order is the order the changes committed in. Versions are kept by number (never
    // reused), so the history outlives deleted versions and deleted tags.
    await queryRunner.query(`
      CREATE TABLE tag_history (
        id bigserial PRIMARY KEY,
        model_id uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
        tag text NOT NULL,
        seq integer NOT NULL CHECK (seq >= 1),
        action text NOT NULL CHECK (action IN ('move', 'follow', 'pin', 'unpin', 'rollback', 'delete')),
        from_version integer,
        to_version integer,
        actor text NOT NULL,
        reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 1024),
        occurred_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (model_id, tag, seq)
      )`);
    await queryRunner.query(`
      CREATE FUNCTION tag_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'tag history is append-only' USING ERRCODE = 'check_violation';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER tag_history_append_only BEFORE UPDATE ON tag_history
      FOR EACH ROW EXECUTE FUNCTION tag_history_append_only()`);
    await queryRunner.query(`
      CREATE TABLE endpoints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        name text NOT NULL CHECK (length(name) <= 63 AND name ~ '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'),
        description text NOT NULL DEFAULT '' CHECK (length(description) <= 4096),
        sticky_header text CHECK (sticky_header ~ '^[A-Za-z0-9-]{1,64}$'),
        mirror_percent integer CHECK (mirror_percent BETWEEN 0 AND 100),
        generation integer NOT NULL DEFAULT 1,
        created_by text NOT NULL,
        updated_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (project_id, name)
      )`);
    await queryRunner.query(`CREATE INDEX endpoints_project_name ON endpoints (project_id, name, id)`);
    // A route targets a version (by number or digest, fixed) or a tag (followed live).
    await queryRunner.query(`
      CREATE TABLE endpoint_routes (
        endpoint_id uuid NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
        position integer NOT NULL CHECK (position >= 0),
        mirror boolean NOT NULL DEFAULT false,
        ref text NOT NULL,
        weight integer NOT NULL CHECK (weight BETWEEN 0 AND 100),
        model_id uuid NOT NULL REFERENCES models (id),
        version_id uuid REFERENCES model_versions (id),
        tag text,
        PRIMARY KEY (endpoint_id, position),
        CHECK ((version_id IS NULL) <> (tag IS NULL)),
        FOREIGN KEY (model_id, tag) REFERENCES tags (model_id, name)
      )`);
    await queryRunner.query(`CREATE INDEX endpoint_routes_version ON endpoint_routes (version_id)`);
    await queryRunner.query(`CREATE INDEX endpoint_routes_tag ON endpoint_routes (model_id, tag)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE endpoint_routes`);
    await queryRunner.query(`DROP TABLE endpoints`);
    await queryRunner.query(`DROP TRIGGER tag_history_append_only ON tag_history`);
    await queryRunner.query(`DROP FUNCTION tag_history_append_only()`);
    await queryRunner.query(`DROP TABLE tag_history`);
    await queryRunner.query(`DROP TABLE tags`);
  }
}
