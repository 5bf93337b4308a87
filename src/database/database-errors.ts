import type { DataSource, QueryRunner } from 'typeorm';
import { DependencyUnavailableError, UNAVAILABLE_ERRNOS } from '../common/errors/unavailable';

/** The database did not answer (stopped, restarting, unreachable); the request may be sent again. */
export class DatabaseUnavailableError extends DependencyUnavailableError {
  readonly code = 'database_unavailable' as const;

  constructor(cause: unknown) {
    super('The database is unavailable; try again shortly', cause);
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * SQLSTATEs that mean "the server is not there for you right now": class 08 (connection
 * exception), 57P01–57P03 (admin or crash shutdown, cannot connect now: a stop or a restart),
 * 53300 (too many connections) and 58030 (I/O error: its disk is gone).
 */
const UNAVAILABLE_STATES = /^(08...|57P0[1-3]|53300|58030)$/;

/** What pg and pg-pool say, without any code, when the connection dies or cannot be had. */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/, // unexpectedly, or due to connection timeout
  /^timeout exceeded when trying to connect$/,
  /is not queryable$/, // a client whose connection already failed
  /^terminating connection due to administrator command$/,
];

/**
 * True when `error` (a pg or socket error, as thrown or wrapped by TypeORM's QueryFailedError)
 * says the database is unreachable rather than that the statement was wrong.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  const candidates = [error, (error as { driverError?: unknown } | null)?.driverError];
  return candidates.some((candidate) => {
    if (!candidate || typeof candidate !== 'object') return false;
    const { code, message } = candidate as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_STATES.test(code) || UNAVAILABLE_ERRNOS.has(code))) return true;
    return typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message));
  });
}

const GUARDED = ['connect', 'query', 'startTransaction', 'commitTransaction', 'rollbackTransaction'] as const;

/** TypeORM's words for a runner used after it let its connection go. */
const RELEASED = new Set(['QueryRunnerAlreadyReleasedError', 'QueryRunnerProviderAlreadyReleasedError']);

/**
 * Makes every query runner the data source hands out (and so every query, transaction and
 * repository call) throw DatabaseUnavailableError for an outage, and the driver's own error
 * for anything else (a unique violation keeps its code for the code that expects it).
 */
export function classifyDatabaseErrors(dataSource: DataSource): void {
  // Runners whose connection failed under them: TypeORM releases such a runner at once, so
  // the next statement of its transaction fails as "already released", which is the outage too.
  const lost = new WeakSet<QueryRunner>();
  const classify = (error: unknown, runner: QueryRunner | undefined): unknown => {
    if (error instanceof DatabaseUnavailableError) return error;
    const released = runner !== undefined && lost.has(runner) && RELEASED.has((error as Error | null)?.name ?? '');
    return released || isDatabaseUnavailable(error) ? new DatabaseUnavailableError(error) : error;
  };

  const create = dataSource.createQueryRunner.bind(dataSource);
  dataSource.createQueryRunner = (...args: Parameters<DataSource['createQueryRunner']>): QueryRunner => {
    const runner = create(...args);
    const methods = runner as unknown as Record<string, (...input: unknown[]) => Promise<unknown>>;
    const releaseConnection = methods.releasePostgresConnection?.bind(runner);
    if (releaseConnection) {
      methods.releasePostgresConnection = (error?: unknown) => {
        if (error) lost.add(runner);
        return releaseConnection(error);
      };
    }
    for (const name of GUARDED) {
      const original = methods[name].bind(runner);
      methods[name] = (...input: unknown[]) =>
        original(...input).catch((error: unknown) => {
          throw classify(error, runner);
        });
    }
    return runner;
  };

  // EntityManager.query goes through here with its transaction's runner.
  const query = dataSource.query.bind(dataSource);
  dataSource.query = <T = unknown>(sql: string, parameters?: unknown[], runner?: QueryRunner): Promise<T> =>
    query<T>(sql, parameters, runner).catch((error: unknown) => {
      throw classify(error, runner);
    });
}
