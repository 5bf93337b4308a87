import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';
import { createProject, memberToken } from './helpers';

const admin = bearer(ADMIN_TOKEN);
const UNLIMITED = { storageBytes: null, storage: null, cpu: null, cpuMillicores: null, memory: null, memoryBytes: null, gpu: null };

describe('project quotas', () => {
  let registry: TestRegistry;
  let projectAdmin: string;

  beforeAll(async () => {
    registry = await startTestRegistry({ WEBHOOK_DISPATCH_ENABLED: 'false' });
    await createProject(registry.http, 'quota');
    projectAdmin = (await memberToken(registry.http, 'quota', 'qadmin', 'admin')).token;
  });
  afterAll(() => registry?.close());

  const put = (body: object, token = ADMIN_TOKEN) => registry.http.put('/api/v1/projects/quota/quota').set(bearer(token)).send(body);
  const column = async () =>
    (await registry.registry.dataSource.query(`SELECT storage_quota_bytes::text AS storage, cpu_quota_millicores::text AS cpu FROM projects WHERE name = 'quota'`))[0];

  it('starts unlimited', async () => {
    expect((await registry.http.get('/api/v1/projects/quota/quota').set(admin).expect(200)).body).toEqual({ project: 'quota', ...UNLIMITED });
  });

  it('records storage, cpu, memory and gpu given as Kubernetes quantities, readable by members', async () => {
    const response = await put({ storage: '500Gi', cpu: '500m', memory: '64Gi', gpu: 2 }).expect(200);
    const expected = {
      project: 'quota',
      storageBytes: 500 * 2 ** 30,
      storage: '500Gi',
      cpu: '500m',
      cpuMillicores: 500,
      memory: '64Gi',
      memoryBytes: 64 * 2 ** 30,
      gpu: 2,
    };
    expect(response.body).toEqual(expected);
    expect((await registry.http.get('/api/v1/projects/quota/quota').set(bearer(projectAdmin)).expect(200)).body).toEqual(expected);
    // The column uploads enforce.
    expect(await column()).toEqual({ storage: String(500 * 2 ** 30), cpu: '500' });
    const [record] = await registry.registry.dataSource.query(`SELECT action, details FROM audit_events ORDER BY id DESC LIMIT 1`);
    expect(record).toEqual({ action: 'project.quota', details: { storageBytes: 500 * 2 ** 30, cpu: '500m', memory: '64Gi', gpu: 2 } });
  });

  it('accepts storage as a plain number of bytes and treats left-out fields as unlimited', async () => {
    const response = await put({ storage: 1_000_000, cpu: '8' }).expect(200);
    expect(response.body).toEqual({ ...UNLIMITED, project: 'quota', storageBytes: 1_000_000, storage: '1000000', cpu: '8', cpuMillicores: 8000 });
    expect((await put({ storage: null }).expect(200)).body).toEqual({ project: 'quota', ...UNLIMITED });
  });

  it.each([
    ['a negative cpu', { cpu: '-1' }, 'cpu'],
    ['a cpu finer than a millicore', { cpu: '0.5m' }, 'cpu'],
    ['memory in lowercase units', { memory: '64gi' }, 'memory'],
    ['a fractional gpu', { gpu: '1.5' }, 'gpu'],
    ['storage as a boolean', { storage: true }, 'storage'],
    ['storage beyond 2^53 bytes', { storage: '16Ei' }, 'storage'],
    ['an unknown field', { disk: '1Gi' }, 'disk'],
  ])('refuses %s with a 400 naming the field and changes nothing', async (_, body, field) => {
    await put({ storage: '1Ti' }).expect(200);
    const response = await put(body).expect(400);
    expect(response.body.code).toBe('validation_failed');
    expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    expect((await column()).storage).toBe(String(2 ** 40));
  });

  it('lets only the platform admin change quotas: a project admin would raise their own', async () => {
    const response = await put({ storage: '10Pi' }, projectAdmin).expect(403);
    expect(response.body.code).toBe('forbidden');
    const scoped = await registry.http.post('/api/v1/tokens').set(admin).send({ name: 'scoped', project: 'quota' }).expect(201);
    await put({ storage: '10Pi' }, scoped.body.token).expect(403);
    expect((await column()).storage).toBe(String(2 ** 40));
  });

  it('answers 404 for a project that does not exist', async () => {
    const response = await registry.http.put('/api/v1/projects/nowhere/quota').set(admin).send({ cpu: '1' }).expect(404);
    expect(response.body.code).toBe('project_not_found');
    await registry.http.get('/api/v1/projects/nowhere/quota').set(admin).expect(404);
  });
});
