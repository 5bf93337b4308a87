import { ExecutorConfigError, loadExecutorConfig } from './config';
import { createExecutorLogger, startExecutor } from './executor';

/**
 * The executor sidecar: `node dist/executor/main.js` in the image, `npm run executor` from a
 * checkout. Configuration comes from the environment (docs/executor.md).
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadExecutorConfig();
  } catch (error) {
    if (error instanceof ExecutorConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createExecutorLogger(config.LOG_LEVEL);
  const executor = await startExecutor(config, logger);
  let signals = 0;
  const stop = (signal: string) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down');
    executor.drain().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'drain failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`wharf executor failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
