import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { bootstrapAdmin } from './tokens/bootstrap-admin';
import { ProblemFilter } from './common/errors/problem.filter';
import { CorsPolicy } from './common/http/cors';
import { consoleStatic } from './console/console-static';
import { documentJsonBodies, JSON_MEDIA_TYPES, JsonBodyInterceptor } from './common/http/json-body.interceptor';
import { securityHeaders } from './common/http/security-headers';
import { createValidationPipe } from './common/validation/validation';
import { WharfConfig } from './config/config';
import { dataSourceOptions, DatabaseTarget, runMigrations } from './database/data-source';
import { classifyDatabaseErrors } from './database/database-errors';
import { EmbeddedPostgres, startEmbeddedPostgres } from './database/embedded-postgres';
import { httpLogging } from './observability/http-logging';
import { PinoNestLogger } from './observability/logger';
import { ResolveFastPath } from './references/resolve-fast-path';
import { SchedulerFastPath } from './scheduler/scheduler-fast-path';
import { Metrics } from './observability/metrics';

export interface Registry {
  app: NestExpressApplication;
  dataSource: DataSource;
  /** A bootstrap admin token generated on this (first) start; print it once. */
  generatedAdminToken?: string;
  /** Where that token was also written, like Jenkins' initialAdminPassword. */
  generatedAdminTokenFile?: string;
  close(): Promise<void>;
}

export interface RegistryOptions {
  logger: Logger;
  /** Keep the embedded database in memory instead of under DATA_DIR (tests). */
  inMemoryDatabase?: boolean;
}

/** JSON bodies are metadata, never artifacts: artifacts stream through their own routes. */
const JSON_BODY_LIMIT = '1mb';

/**
 * Builds a ready-to-listen registry: database (embedded or external), migrations, bootstrap
 * admin, and the Nest app with its global pipe, filter, logging, metrics and OpenAPI. Used by
 * main.ts and by the tests, so both run the same wiring.
 */
export async function createRegistry(config: WharfConfig, options: RegistryOptions): Promise<Registry> {
  let embedded: EmbeddedPostgres | undefined;
  let target: DatabaseTarget;
  if (config.DATABASE_URL) {
    target = { url: config.DATABASE_URL, embedded: false, poolSize: config.DATABASE_POOL_SIZE };
  } else {
    embedded = await startEmbeddedPostgres(options.inMemoryDatabase ? undefined : path.join(config.dataDir, 'postgres'));
    target = { url: embedded.url, embedded: true, poolSize: 1 };
  }

  const dataSource = new DataSource(dataSourceOptions(target));
  try {
    await dataSource.initialize();
    const applied = await runMigrations(dataSource, target.embedded);
    if (applied.length) options.logger.info({ migrations: applied }, 'applied database migrations');
    const { generatedToken } = await bootstrapAdmin(dataSource, config.WHARF_ADMIN_TOKEN);
    const generatedTokenFile = generatedToken ? await writeAdminTokenFile(config.dataDir, generatedToken) : undefined;
    // From here on an outage is answered 503; before, a start that fails keeps the driver's words.
    classifyDatabaseErrors(dataSource);

    const metrics = new Metrics();
    const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config, dataSource, metrics), {
      logger: new PinoNestLogger(options.logger),
      bodyParser: false,
    });
    configureApp(app, config, options.logger, metrics);
    await app.init();
    ResolveFastPath.install(app);
    SchedulerFastPath.install(app);
    return {
      app,
      dataSource,
      generatedAdminToken: generatedToken,
      generatedAdminTokenFile: generatedTokenFile,
      async close() {
        await app.close();
        if (dataSource.isInitialized) await dataSource.destroy();
        await embedded?.stop();
      },
    };
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw error;
  }
}

/** The generated admin token, readable by the registry's user only, for scripts and the README. */
async function writeAdminTokenFile(dataDir: string, token: string): Promise<string> {
  const file = path.join(dataDir, 'initial-admin-token');
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return file;
}

/** TRUST_PROXY as Express wants it: a boolean, a hop count, or the list of trusted addresses. */
export function trustProxySetting(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^[0-9]+$/.test(value)) return Number(value);
  return value;
}

function configureApp(app: NestExpressApplication, config: WharfConfig, logger: Logger, metrics: Metrics): void {
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.set('trust proxy', trustProxySetting(config.TRUST_PROXY));
  app.use(httpLogging(logger));
  app.use(metrics.middleware());
  app.use(securityHeaders());
  // The web console (dist/web) at /, with its own CSP; /api/v1, /docs and the probes stay the registry's.
  app.use(consoleStatic());
  app.use(new CorsPolicy(config.CORS_ALLOWED_ORIGINS).middleware());
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT, type: JSON_MEDIA_TYPES });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalInterceptors(new JsonBodyInterceptor());
  app.useGlobalFilters(new ProblemFilter());
  app.enableShutdownHooks();
  setupOpenApi(app);
}

function setupOpenApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Wharf registry')
      .setDescription(
        'Model registry and artifact cache for Kubernetes model serving. Every error is ' +
          '`application/problem+json` (RFC 9457) with a stable `code`. While the database or the object store ' +
          'does not answer, any route that needs it answers 503 `database_unavailable` or `storage_unavailable` ' +
          'with `Retry-After`.',
      )
      .setVersion('v1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A Wharf API token (wharf_…)' })
      .build(),
  );
  documentJsonBodies(document);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
