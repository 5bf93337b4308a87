import { createHash } from 'node:crypto';
import { binary } from '../support/artifacts';
import { commitWithFile, createModel, createProject, expectProblem } from '../support/fixtures';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

describe('downloads by reference', () => {
  let wharf: TestRegistry;
  const base = '/api/v1/projects/refs/models/m/versions';
  beforeAll(async () => {
    wharf = await startTestRegistry();
    await createProject(wharf, 'refs');
    await createModel(wharf, 'refs', 'm');
    for (const number of [1, 2]) {
      await wharf.http.post(base).set(bearer(ADMIN_TOKEN)).send({}).expect(201);
      await commitWithFile(wharf.http, `${base}/${number}`, `weights of version ${number}`);
    }
    await wharf.http.put('/api/v1/projects/refs/models/m/tags/prod').set(bearer(ADMIN_TOKEN)).send({ version: 1 }).expect(200);
  });
  afterAll(async () => {
    await wharf?.close();
  });

  const download = (ref: string) => binary(wharf.http.get(`${base}/${ref}/files/weights.bin`).set(bearer(ADMIN_TOKEN)));
  const text = async (ref: string) => {
    const response = await download(ref);
    expect(response.status).toBe(200);
    return (response.body as Buffer).toString();
  };

  it('serves the version a tag, a number or a digest names', async () => {
    const digest2 = (await wharf.http.get(`${base}/2`).set(bearer(ADMIN_TOKEN))).body.manifestDigest as string;
    expect(await text('prod')).toBe('weights of version 1');
    expect(await text('latest')).toBe('weights of version 2');
    expect(await text('2')).toBe('weights of version 2');
    expect(await text(digest2)).toBe('weights of version 2');
    const response = await download('prod');
    expect(response.headers.etag).toBe(`"${createHash('sha256').update('weights of version 1').digest('hex')}"`);
  });

  it('follows a tag as it moves', async () => {
    await wharf.http.put('/api/v1/projects/refs/models/m/tags/moving').set(bearer(ADMIN_TOKEN)).send({ version: 1 }).expect(200);
    expect(await text('moving')).toBe('weights of version 1');
    await wharf.http.put('/api/v1/projects/refs/models/m/tags/moving').set(bearer(ADMIN_TOKEN)).send({ version: 2 }).expect(200);
    expect(await text('moving')).toBe('weights of version 2');
  });

  it('refuses unknown and malformed references', async () => {
    const problem = (ref: string) => wharf.http.get(`${base}/${ref}/files/weights.bin`).set(bearer(ADMIN_TOKEN));
    expectProblem(await problem('nope'), 404, 'tag_not_found');
    expectProblem(await problem(`sha256:${'0'.repeat(64)}`), 404, 'version_not_found');
    expectProblem(await problem('sha256:xyz'), 400, 'invalid_reference');
    expectProblem(await problem('Bad!Tag'), 400, 'invalid_reference');
    expectProblem(await problem('0'), 400, 'validation_failed');
  });
});
