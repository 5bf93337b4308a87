import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The foundation schema: principals, tokens, projects, members, models, versions, audit.
 * Rules that must hold under concurrency live here as constraints and triggers, not in code.
 */
export class Foundation1764320000000 implements MigrationInterface {
  name = 'Foundation1764320000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE principals (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
        kind text NOT NULL CHECK (kind IN ('user', 'service')),
        platform_admin boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE projects (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE
          CHECK (length(name) <= 63 AND name ~ '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'),
        description text NOT NULL DEFAULT '' CHECK (length(description) <= 4096),
        labels jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE project_members (
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        principal_id uuid NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, principal_id)
      )`);
    await queryRunner.query(`CREATE INDEX project_members_principal ON project_members (principal_id)`);
    await queryRunner.query(`
      CREATE TABLE api_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        principal_id uuid NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
        secret_sha256 text NOT NULL UNIQUE CHECK (secret_sha256 ~ '^[0-9a-f]{64}$'),
        token_prefix text NOT NULL,
        project_id uuid REFERENCES projects (id) ON DELETE CASCADE,
        role_ceiling text CHECK (role_ceiling IN ('viewer', 'editor', 'admin')),
        expires_at timestamptz,
        revoked_at timestamptz,
        last_used_at timestamptz,
        created_by uuid REFERENCES principals (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX api_tokens_principal ON api_tokens (principal_id, created_at)`);
    await queryRunner.query(`
      CREATE TABLE models (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        name text NOT NULL
          CHECK (length(name) <= 128 AND name ~ '^[a-z0-9]+([._-][a-z0-9]+)*$'),
        description text NOT NULL DEFAULT '' CHECK (length(description) <= 4096),
        labels jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
        -- The next version number. Taking it is an UPDATE of this row, so concurrent version
        -- creations serialise on the row lock and the numbers stay gapless and unique.
        next_version integer NOT NULL DEFAULT 1 CHECK (next_version >= 1),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (project_id, name)
      )`);
    await queryRunner.query(`CREATE INDEX models_labels ON models USING gin (labels jsonb_path_ops)`);
    await queryRunner.query(`CREATE INDEX models_project_created ON models (project_id, created_at, id)`);
    await queryRunner.query(`CREATE INDEX models_project_updated ON models (project_id, updated_at, id)`);
    await queryRunner.query(`
      CREATE TABLE model_versions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        model_id uuid NOT NULL REFERENCES models (id) ON DELETE CASCADE,
        number integer NOT NULL CHECK (number >= 1),
        state text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'ready', 'failed', 'archived')),
        description text NOT NULL DEFAULT '' CHECK (length(description) <= 4096),
        metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
        manifest_digest text CHECK (manifest_digest ~ '^sha256:[0-9a-f]{64}$'),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        committed_at timestamptz,
        UNIQUE (model_id, number),
        -- ready and archived versions are committed; committed versions carry their digest.
        CHECK ((state IN ('ready', 'archived')) = (committed_at IS NOT NULL)),
        CHECK ((committed_at IS NULL) = (manifest_digest IS NULL))
      )`);
    await queryRunner.query(`CREATE INDEX model_versions_digest ON model_versions (manifest_digest)`);
    // A committed version is immutable: only its state may move between ready and archived.
    await queryRunner.query(`
      CREATE FUNCTION model_versions_guard_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.state IN ('ready', 'archived') AND (
             NEW.metadata IS DISTINCT FROM OLD.metadata OR
             NEW.description IS DISTINCT FROM OLD.description OR
             NEW.manifest_digest IS DISTINCT FROM OLD.manifest_digest OR
             NEW.number IS DISTINCT FROM OLD.number OR
             NEW.model_id IS DISTINCT FROM OLD.model_id OR
             NEW.committed_at IS DISTINCT FROM OLD.committed_at OR
             NEW.state NOT IN ('ready', 'archived')) THEN
          RAISE EXCEPTION 'version % of model % is committed and immutable', OLD.number, OLD.model_id
            USING ERRCODE = 'check_violation';
        END IF;
        IF OLD.state = 'failed' AND NEW IS DISTINCT FROM OLD THEN
          RAISE EXCEPTION 'version % of model % has failed and is immutable', OLD.number, OLD.model_id
            USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER model_versions_immutable BEFORE UPDATE ON model_versions
      FOR EACH ROW EXECUTE FUNCTION model_versions_guard_immutable()`);
    await queryRunner.query(`
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        actor_id uuid,
        actor text NOT NULL,
        project text,
        action text NOT NULL,
        target text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}',
        request_id text
      )`);
    await queryRunner.query(`CREATE INDEX audit_events_project ON audit_events (project, occurred_at)`);
    await queryRunner.query(`CREATE INDEX audit_events_actor ON audit_events (actor, occurred_at)`);
    await queryRunner.query(`CREATE INDEX audit_events_action ON audit_events (action, occurred_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_events`);
    await queryRunner.query(`DROP TRIGGER model_versions_immutable ON model_versions`);
    await queryRunner.query(`DROP FUNCTION model_versions_guard_immutable()`);
    await queryRunner.query(`DROP TABLE model_versions`);
    await queryRunner.query(`DROP TABLE models`);
    await queryRunner.query(`DROP TABLE api_tokens`);
    await queryRunner.query(`DROP TABLE project_members`);
    await queryRunner.query(`DROP TABLE projects`);
    await queryRunner.query(`DROP TABLE principals`);
  }
}
