import { binary } from '../support/artifacts';
import { commitWithFile, createModel, createProject, expectProblem } from '../support/fixtures';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

/**
 * A `{ref}` in a path may spell out its project and model (`a/m1@1`), but they must be the
 * path's own: a reference naming another project or model is refused, never quietly read as
 * the path's version of the same number or tag.
 */
describe('a reference in a path stays inside its project and model', () => {
  let wharf: TestRegistry;
  const versions = (project: string, model: string) => `/api/v1/projects/${project}/models/${model}/versions`;

  beforeAll(async () => {
    wharf = await startTestRegistry();
    for (const project of ['a', 'b']) {
      await createProject(wharf, project);
      for (const model of ['m1', 'm2']) {
        await createModel(wharf, project, model);
        await wharf.http.post(versions(project, model)).set(bearer(ADMIN_TOKEN)).send({}).expect(201);
        await commitWithFile(wharf.http, `${versions(project, model)}/1`, `${project}/${model} weights`);
      }
    }
  }, 180_000);
  afterAll(async () => {
    await wharf?.close();
  });

  const FOREIGN = [
    ['another project', 'b%2Fm1@1'],
    ['another project by tag', 'b%2Fm1:latest'],
    ['another model', 'm2@1'],
    ['another model by tag', 'm2:latest'],
    ['another model in the same project', 'a%2Fm2@1'],
  ];

  it.each(FOREIGN)('refuses a manifest request naming %s with 400 invalid_reference', async (_, ref) => {
    expectProblem(await wharf.http.get(`${versions('a', 'm1')}/${ref}/files`).set(bearer(ADMIN_TOKEN)), 400, 'invalid_reference');
  });

  it.each(FOREIGN)('refuses a download naming %s with 400 invalid_reference', async (_, ref) => {
    const response = await binary(wharf.http.get(`${versions('a', 'm1')}/${ref}/files/weights.bin`).set(bearer(ADMIN_TOKEN)));
    expectProblem({ ...response, body: JSON.parse((response.body as Buffer).toString()) }, 400, 'invalid_reference');
  });

  it.each(FOREIGN)('refuses a HEAD naming %s with 400', async (_, ref) => {
    const response = await wharf.http.head(`${versions('a', 'm1')}/${ref}/files/weights.bin`).set(bearer(ADMIN_TOKEN));
    expect(response.status).toBe(400);
  });

  it.each([
    ['another project', 'b/m1@1'],
    ['another model', 'm2@1'],
  ])('refuses a resolve naming %s with 400 invalid_reference', async (_, ref) => {
    const response = await wharf.http.get('/api/v1/projects/a/models/m1/resolve').query({ ref }).set(bearer(ADMIN_TOKEN));
    expectProblem(response, 400, 'invalid_reference');
  });

  it('still serves a reference that spells out the path\'s own project and model', async () => {
    const manifest = await wharf.http.get(`${versions('a', 'm1')}/a%2Fm1@1/files`).set(bearer(ADMIN_TOKEN));
    expect(manifest.status).toBe(200);
    for (const ref of ['a%2Fm1@1', 'm1@1', 'm1:latest', '1', 'latest']) {
      const response = await binary(wharf.http.get(`${versions('a', 'm1')}/${ref}/files/weights.bin`).set(bearer(ADMIN_TOKEN)));
      expect({ ref, status: response.status, body: (response.body as Buffer).toString() }).toEqual({ ref, status: 200, body: 'a/m1 weights' });
    }
  });
});
