import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Blobs, the files of versions, upload sessions and their parts, and per-project storage.
 * Content addressing, dedupe and "a committed version never changes" are constraints here.
 */
export class Artifacts1764340000000 implements MigrationInterface {
  name = 'Artifacts1764340000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE project_storage (
        project_id uuid PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
        -- The quota itself is projects.storage_quota_bytes (the governance migration).
        -- Bytes of this project's blobs, kept under this row's lock as blobs come and go.
        used_bytes bigint NOT NULL DEFAULT 0 CHECK (used_bytes >= 0)
      )`);
    await queryRunner.query(`
      CREATE TABLE blobs (
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        size bigint NOT NULL CHECK (size >= 0),
        -- Unique per upload: a blob's bytes are never overwritten by a later upload.
        storage_key text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, sha256)
      )`);
    await queryRunner.query(`CREATE INDEX blobs_created ON blobs (created_at)`);
    await queryRunner.query(`
      CREATE TABLE version_files (
        version_id uuid NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
        path text NOT NULL CHECK (length(path) BETWEEN 1 AND 1024 AND left(path, 1) <> '/' AND position('\\' in path) = 0),
        project_id uuid NOT NULL,
        sha256 text NOT NULL,
        size bigint NOT NULL CHECK (size >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (version_id, path),
        -- A referenced blob cannot be deleted: garbage collection races end here.
        FOREIGN KEY (project_id, sha256) REFERENCES blobs (project_id, sha256) ON DELETE RESTRICT
      )`);
    await queryRunner.query(`CREATE INDEX version_files_blob ON version_files (project_id, sha256)`);
    // Files change only while their version is a draft. A cascade from deleting the version
    // finds no version row and passes.
    await queryRunner.query(`
      CREATE FUNCTION version_files_guard_draft() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        current_state text;
      BEGIN
        SELECT state INTO current_state FROM model_versions
         WHERE id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.version_id ELSE NEW.version_id END);
        IF current_state IS NOT NULL AND current_state <> 'draft' THEN
          RAISE EXCEPTION 'the files of a % version cannot change', current_state USING ERRCODE = 'check_violation';
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.version_id IS DISTINCT FROM OLD.version_id THEN
          RAISE EXCEPTION 'a file cannot move to another version' USING ERRCODE = 'check_violation';
        END IF;
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER version_files_draft_only BEFORE INSERT OR UPDATE OR DELETE ON version_files
      FOR EACH ROW EXECUTE FUNCTION version_files_guard_draft()`);
    await queryRunner.query(`
      CREATE TABLE uploads (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        version_id uuid REFERENCES model_versions (id) ON DELETE SET NULL,
        path text NOT NULL,
        size bigint NOT NULL CHECK (size >= 0),
        sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        part_size bigint NOT NULL CHECK (part_size BETWEEN 5242880 AND 5368709120),
        part_count integer NOT NULL CHECK (part_count BETWEEN 1 AND 10000),
        state text NOT NULL CHECK (state IN ('open', 'completing', 'complete', 'failed', 'aborted', 'expired')),
        storage_key text NOT NULL,
        store_upload_id text NOT NULL,
        failure text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    // One live session per file of a version.
    await queryRunner.query(`
      CREATE UNIQUE INDEX uploads_live_path ON uploads (version_id, path) WHERE state IN ('open', 'completing')`);
    await queryRunner.query(`CREATE INDEX uploads_expiry ON uploads (expires_at) WHERE state IN ('open', 'completing')`);
    await queryRunner.query(`CREATE INDEX uploads_project_live ON uploads (project_id) WHERE state IN ('open', 'completing')`);
    await queryRunner.query(`
      CREATE TABLE upload_parts (
        upload_id uuid NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
        number integer NOT NULL CHECK (number BETWEEN 1 AND 10000),
        size bigint NOT NULL CHECK (size >= 0),
        -- Known when the client sent the part's digest (then it was checked while streaming).
        sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        etag text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (upload_id, number)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE upload_parts`);
    await queryRunner.query(`DROP TABLE uploads`);
    await queryRunner.query(`DROP TRIGGER version_files_draft_only ON version_files`);
    await queryRunner.query(`DROP FUNCTION version_files_guard_draft()`);
    await queryRunner.query(`DROP TABLE version_files`);
    await queryRunner.query(`DROP TABLE blobs`);
    await queryRunner.query(`DROP TABLE project_storage`);
  }
}
