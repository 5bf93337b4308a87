// The Wharf operator (`npm run operator`): ModelDeployments into Deployments and Services, with
// admission webhooks. Configuration: operator/config.ts and docs/operator.md.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { KubeClient } from '../kube-runtime/kube-client';
import { LeaderElector } from '../kube-runtime/leader-election';
import { createAdmissionServer, patchCaBundle } from './admission/server';
import { loadOperatorConfig, OperatorConfigError, type OperatorConfig } from './config';
import { createController } from './controller';
import { createHttpServer } from './http-server';
import { createOperatorMetrics } from './metrics';

function configOrExit(): OperatorConfig {
  try {
    return loadOperatorConfig();
  } catch (error) {
    if (error instanceof OperatorConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

async function listen(server: import('node:net').Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return (server.address() as AddressInfo).port;
}

async function main(): Promise<void> {
  const config = configOrExit();
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'wharf-operator' }, timestamp: pino.stdTimeFunctions.isoTime });
  const kube = await KubeClient.fromKubeconfig(config.KUBECONFIG);
  const metrics = createOperatorMetrics();
  const controller = createController(config, kube, metrics, logger);

  const elector = config.LEADER_ELECTION
    ? new LeaderElector(kube, {
      namespace: config.LEASE_NAMESPACE ?? config.POD_NAMESPACE ?? config.WATCH_NAMESPACE ?? 'wharf-system',
      name: config.LEASE_NAME,
      leaseDurationMs: config.LEASE_DURATION_MS,
      renewDeadlineMs: config.RENEW_DEADLINE_MS,
      retryPeriodMs: config.RETRY_PERIOD_MS,
      onStartedLeading: () => {
        logger.info({ identity: elector!.identity }, 'leading: starting the controller');
        controller.start().catch((error) => {
          logger.fatal({ err: (error as Error).message }, 'the controller failed to start');
          process.exit(1);
        });
      },
      // Informers and queue hold state only a leader may act on: start afresh as a new process.
      onStoppedLeading: () => {
        logger.fatal({ identity: elector!.identity }, 'lost the leader Lease; exiting so that only one replica reconciles');
        process.exit(1);
      },
      onError: (error) => logger.warn({ err: (error as Error).message }, 'leader election: could not reach the Lease'),
    })
    : undefined;
  // Followers serve the webhooks too, so they are ready; a leader once its informers synced.
  const ready = () => !elector?.isLeader ? true : controller.synced();
  const http = createHttpServer({ metrics, eventsSecret: controller.eventsSecret, onRegistryEvent: (event) => controller.onRegistryEvent(event), ready });
  const httpPort = await listen(http, config.HTTP_PORT, config.HTTP_HOST);
  let webhookPort: number | undefined;
  let admission: import('node:https').Server | undefined;
  if (config.WEBHOOK_CERT_FILE && config.WEBHOOK_KEY_FILE) {
    admission = createAdmissionServer(config.WEBHOOK_CERT_FILE, config.WEBHOOK_KEY_FILE, { image: config.EXECUTOR_IMAGE, port: config.EXECUTOR_PORT }, (error) => logger.warn({ err: (error as Error).message }, 'refused an admission request'));
    webhookPort = await listen(admission, config.WEBHOOK_PORT, config.WEBHOOK_HOST);
    if (config.WEBHOOK_CA_FILE) {
      await patchCaBundle(kube, config.WEBHOOK_CONFIGURATION_NAME, readFileSync(config.WEBHOOK_CA_FILE, 'utf8'));
      logger.info({ configuration: config.WEBHOOK_CONFIGURATION_NAME }, 'webhook caBundle up to date');
    }
  } else {
    logger.warn('WEBHOOK_CERT_FILE/WEBHOOK_KEY_FILE unset: no admission webhooks served (the controller still applies defaults and validates)');
  }
  if (elector) elector.start();
  else await controller.start();
  logger.info({ httpPort, webhookPort, namespace: config.WATCH_NAMESPACE ?? '(all)', registry: config.REGISTRY_URL, leaderElection: config.LEADER_ELECTION }, 'wharf operator running');

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    await controller.stop();
    await elector?.stop();
    http.close();
    admission?.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`wharf operator failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
