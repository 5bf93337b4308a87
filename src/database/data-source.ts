import { DataSource, DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { ENTITIES } from './entities';

export interface DatabaseTarget {
  url: string;
  /** Embedded PGlite is a single session: exactly one pooled connection. */
  embedded: boolean;
  poolSize: number;
}

export function dataSourceOptions(target: DatabaseTarget): DataSourceOptions {
  return {
    type: 'postgres',
    url: target.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    // The schema comes from migrations/ only.
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: {
      max: target.embedded ? 1 : target.poolSize,
      connectionTimeoutMillis: 10_000,
      application_name: 'wharf-registry',
    },
  };
}

/** Any number for pg_advisory_lock, shared by every replica of this registry. */
const MIGRATION_LOCK_KEY = 0x77686172; // "whar"

/**
 * Applies pending migrations. Replicas starting together take an advisory lock first, so
 * exactly one runs the migrations and the others find nothing left to do.
 */
export async function runMigrations(dataSource: DataSource, embedded: boolean): Promise<string[]> {
  const migrate = async () =>
    (await dataSource.runMigrations({ transaction: 'each' })).map((migration) => migration.name);
  // Embedded PGlite belongs to this one process (and its pool has one connection, which the
  // lock would hold while the migrations wait for it).
  if (embedded) return migrate();
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await migrate();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
