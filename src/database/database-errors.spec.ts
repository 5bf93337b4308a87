import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable } from './database-errors';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });
const wrapped = (driverError: Error) => new QueryFailedError('SELECT 1', [], driverError);

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['an admin shutdown (57P01) wrapped by TypeORM', wrapped(pgError('57P01', 'terminating connection due to administrator command'))],
    ['a server still starting (57P03)', pgError('57P03', 'the database system is starting up')],
    ['a connection exception (08006)', pgError('08006')],
    ['too many connections (53300)', pgError('53300')],
    ['pg losing its connection without a code', new Error('Connection terminated unexpectedly')],
    ['pg-pool giving up on a connection', new Error('timeout exceeded when trying to connect')],
    ['a client whose connection already failed', new Error('Client has encountered a connection error and is not queryable')],
  ])('says unavailable for %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', wrapped(pgError('23505', 'duplicate key value violates unique constraint'))],
    ['a foreign key violation', pgError('23503')],
    ['a syntax error', pgError('42601')],
    ['a serialization failure', pgError('40001')],
    ['a statement cancelled by its timeout', pgError('57014')],
    ['a programming error', new TypeError('x is not a function')],
    ['nothing', undefined],
  ])('leaves %s to its own handling', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
