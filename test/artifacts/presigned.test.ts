import { randomBytes } from 'node:crypto';
import supertest from 'supertest';
import { binary, draft, sha256, uploadFile } from '../support/artifacts';
import { S3Target, startS3rver } from '../support/s3';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

describe('downloads redirected to presigned S3 URLs', () => {
  let registry: TestRegistry;
  let s3: S3Target;

  beforeAll(async () => {
    s3 = await startS3rver();
    registry = await startTestRegistry({
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_PRESIGNED_DOWNLOADS: 'true',
      GC_INTERVAL_SECONDS: '0',
    });
  });
  afterAll(async () => {
    await registry?.close();
    await s3?.close();
  });

  it('redirects GET to a URL a plain HTTP client can fetch, while HEAD and 304 stay local', async () => {
    const versions = await draft(registry.url, 'presigned');
    const data = randomBytes(5000);
    await uploadFile(registry.url, `${versions}/1`, 'dir/a.bin', data);
    const url = `${versions}/1/files/dir/a.bin`;
    const redirect = await registry.http.get(url).set(bearer(ADMIN_TOKEN)).redirects(0).expect(302);
    const location = new URL(redirect.headers.location);
    expect(location.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    const fetched = await binary(supertest(location.origin).get(`${location.pathname}${location.search}`)).expect(200);
    expect(sha256(fetched.body as Buffer)).toBe(sha256(data));
    const head = await registry.http.head(url).set(bearer(ADMIN_TOKEN)).expect(200);
    expect(head.headers.etag).toBe(`"${sha256(data)}"`);
    await registry.http.get(url).set(bearer(ADMIN_TOKEN)).set('If-None-Match', `"${sha256(data)}"`).expect(304);
    await registry.http.get(url).expect(401);
  });
});
