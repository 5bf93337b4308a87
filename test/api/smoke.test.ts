import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

describe('smoke', () => {
  let wharf: TestRegistry;
  beforeAll(async () => {
    wharf = await startTestRegistry();
  });
  afterAll(async () => {
    await wharf?.close();
  });

  it('creates a project, model and version', async () => {
    const project = await wharf.http.post('/api/v1/projects').set(bearer(ADMIN_TOKEN)).send({ name: 'vision' });
    expect(project.status).toBe(201);
    const model = await wharf.http.post('/api/v1/projects/vision/models').set(bearer(ADMIN_TOKEN)).send({ name: 'resnet' });
    expect(model.status).toBe(201);
    const version = await wharf.http.post('/api/v1/projects/vision/models/resnet/versions').set(bearer(ADMIN_TOKEN)).send({});
    expect(version.body).toEqual({});
  });
});
