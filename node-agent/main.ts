import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { WharfClient } from '../src/client/wharf-client';
import { Agent, AGENT_VERSION } from './agent';
import { createAgentApi } from './api';
import { AgentConfigError, loadAgentConfig } from './config';
import { createAgentMetrics } from './metrics';
import { CacheStore } from './store';

/** The node agent: one per node (a DaemonSet in a cluster). */
async function main(): Promise<void> {
  let config;
  try {
    config = loadAgentConfig();
  } catch (error) {
    if (error instanceof AgentConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'wharf-node-agent', node: config.NODE_NAME }, timestamp: pino.stdTimeFunctions.isoTime });
  const client = new WharfClient({ url: config.REGISTRY_URL, token: config.WHARF_TOKEN, retries: 2, backoffMs: 200, maxBackoffMs: 5000, userAgent: `wharf-node-agent/${AGENT_VERSION}` });
  const metrics = createAgentMetrics();
  const agent = new Agent(config, client, new CacheStore(config.cacheDir), metrics, logger);
  await agent.start();
  const server = createAgentApi(agent, metrics);
  await new Promise<void>((resolve) => server.listen(config.AGENT_PORT, config.AGENT_HOST, resolve));
  const { port } = server.address() as AddressInfo;
  logger.info({ port, cacheDir: config.cacheDir, budget: config.CACHE_BUDGET }, 'wharf node agent listening');

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    server.close();
    await agent.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: Error) => {
  process.stderr.write(`node agent failed to start: ${error.message}\n`);
  process.exit(1);
});
