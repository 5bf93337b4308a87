import { isStoreUnavailable } from './s3-errors';

const s3Error = (code: string) => Object.assign(new Error(code), { code });

describe('isStoreUnavailable', () => {
  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED' })],
    ['a connection cut midway', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['an unknown host', Object.assign(new Error('getaddrinfo EAI_AGAIN minio'), { code: 'EAI_AGAIN' })],
    ['S3 asking to slow down', s3Error('SlowDown')],
    ['S3 unavailable', s3Error('ServiceUnavailable')],
    ['an internal error of S3', s3Error('InternalError')],
    ["the client's retry of a 503 failing too", new Error('Request failed after 1 retries: Error: Retryable HTTP status: 503')],
  ])('says unavailable for %s', (_, error) => {
    expect(isStoreUnavailable(error)).toBe(true);
  });

  it.each([
    ['a missing object', s3Error('NoSuchKey')],
    ['a missing bucket (handled by making it again)', s3Error('NoSuchBucket')],
    ['refused credentials', s3Error('AccessDenied')],
    ['a rule of multipart uploads', s3Error('EntityTooSmall')],
    ['a programming error', new TypeError('x is not a function')],
    ['nothing', null],
  ])('leaves %s to its own handling', (_, error) => {
    expect(isStoreUnavailable(error)).toBe(false);
  });
});
