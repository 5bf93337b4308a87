import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scheduler index (issue 13): every write to a node row (each heartbeat, whichever replica takes
 * it) notifies `wharf_nodes` with the node's name, delivered when the write commits, so every
 * replica's in-memory cache index rereads that node. A trigger rather than a call in the
 * heartbeat code: every path that writes nodes (slow, fast, deletes) is covered at once.
 * Postgres folds identical notifications of one transaction into one.
 */
export class SchedulerIndex1764390000000 implements MigrationInterface {
  name = 'SchedulerIndex1764390000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION nodes_notify_scheduler() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('wharf_nodes', CASE WHEN TG_OP = 'DELETE' THEN OLD.name ELSE NEW.name END);
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER nodes_notify_scheduler AFTER INSERT OR UPDATE OR DELETE ON nodes
        FOR EACH ROW EXECUTE FUNCTION nodes_notify_scheduler()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER nodes_notify_scheduler ON nodes`);
    await queryRunner.query(`DROP FUNCTION nodes_notify_scheduler()`);
  }
}
