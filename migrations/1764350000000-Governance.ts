import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Governance: project quotas, webhook subscriptions and their deliveries (the outbox).
 * `storage_quota_bytes` is the column uploads enforce: null falls back to PROJECT_STORAGE_QUOTA, 0 is
 * unlimited; cpu, memory and gpu (null: unlimited) are recorded for the operator.
 */
export class Governance1764350000000 implements MigrationInterface {
  name = 'Governance1764350000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE projects
        ADD COLUMN storage_quota_bytes bigint CHECK (storage_quota_bytes >= 0),
        ADD COLUMN cpu_quota_millicores bigint CHECK (cpu_quota_millicores >= 0),
        ADD COLUMN memory_quota_bytes bigint CHECK (memory_quota_bytes >= 0),
        ADD COLUMN gpu_quota integer CHECK (gpu_quota >= 0)`);
    await queryRunner.query(`
      CREATE TABLE webhook_subscriptions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        url text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2048),
        events text[] NOT NULL CHECK (cardinality(events) >= 1),
        -- The signing secret, sealed with WEBHOOK_SECRET_KEY when it is set (see events/secret-box.ts).
        secret_sealed text NOT NULL,
        description text NOT NULL DEFAULT '' CHECK (length(description) <= 1024),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX webhook_subscriptions_project ON webhook_subscriptions (project_id, created_at, id)`);
    // The outbox: one row per (event, subscription), inserted in the transaction of the change
    // that caused the event, delivered later by the dispatcher of whichever replica claims it.
    await queryRunner.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
        event_id uuid NOT NULL,
        event_type text NOT NULL,
        payload jsonb NOT NULL,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_status integer,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        UNIQUE (subscription_id, event_id)
      )`);
    await queryRunner.query(`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending'`);
    await queryRunner.query(`CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, created_at, id)`);
    await queryRunner.query(`
      CREATE TABLE webhook_delivery_attempts (
        id bigserial PRIMARY KEY,
        delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
        attempt integer NOT NULL CHECK (attempt >= 1),
        attempted_at timestamptz NOT NULL DEFAULT now(),
        status integer,
        error text,
        duration_ms integer NOT NULL CHECK (duration_ms >= 0)
      )`);
    await queryRunner.query(`CREATE INDEX webhook_delivery_attempts_delivery ON webhook_delivery_attempts (delivery_id, attempt)`);
    await queryRunner.query(`CREATE INDEX audit_events_occurred ON audit_events (occurred_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX audit_events_occurred`);
    await queryRunner.query(`DROP TABLE webhook_delivery_attempts`);
    await queryRunner.query(`DROP TABLE webhook_deliveries`);
    await queryRunner.query(`DROP TABLE webhook_subscriptions`);
    await queryRunner.query(`
      ALTER TABLE projects
        DROP COLUMN storage_quota_bytes, DROP COLUMN cpu_quota_millicores,
        DROP COLUMN memory_quota_bytes, DROP COLUMN gpu_quota`);
  }
}
