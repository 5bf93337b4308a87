import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from './config/config';
import { createLogger } from './observability/logger';
import { createRegistry } from './registry';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`wharf: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const registry = await createRegistry(config, { logger });
  if (registry.generatedAdminToken) {
    // Shown once, on the first start, outside the JSON log so it is easy to copy.
    process.stderr.write(
      [
        '',
        '  Wharf generated a platform admin token. It is shown only this once:',
        '',
        `    ${registry.generatedAdminToken}`,
        '',
        `  It is also in ${registry.generatedAdminTokenFile} (readable by this user only);`,
        '  delete that file once you have stored the token. Set WHARF_ADMIN_TOKEN to choose your own.',
        '',
      ].join('\n') + '\n',
    );
  }
  await registry.app.listen(config.PORT, config.HOST);
  const address = registry.app.getHttpServer().address() as AddressInfo;
  logger.info(
    { port: address.port, host: config.HOST, database: config.DATABASE_URL ? 'external' : 'embedded', dataDir: config.dataDir },
    'wharf registry listening',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`wharf: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
