import 'reflect-metadata';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../config/config';
import { dataSourceOptions, runMigrations } from './data-source';
import { startEmbeddedPostgres } from './embedded-postgres';

/**
 * `npm run migration:run`: applies pending migrations to DATABASE_URL, or to the embedded
 * database under DATA_DIR, and exits. The registry also does this at every start.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const embedded = config.DATABASE_URL ? undefined : await startEmbeddedPostgres(path.join(config.dataDir, 'postgres'));
  const url = config.DATABASE_URL ?? embedded!.url;
  const dataSource = new DataSource(dataSourceOptions({ url, embedded: Boolean(embedded), poolSize: 1 }));
  try {
    await dataSource.initialize();
    const applied = await runMigrations(dataSource, Boolean(embedded));
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'the schema is up to date\n');
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`wharf migrate: ${error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
