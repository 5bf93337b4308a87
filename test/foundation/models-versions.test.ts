import { commitWithFile, createModel, createProject, expectProblem } from '../support/fixtures';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

describe('models and versions', () => {
  let wharf: TestRegistry;
  beforeAll(async () => {
    wharf = await startTestRegistry();
    await createProject(wharf, 'ml');
  });
  afterAll(async () => {
    await wharf?.close();
  });

  const api = {
    get: (path: string) => wharf.http.get(`/api/v1/projects/ml${path}`).set(bearer(ADMIN_TOKEN)),
    post: (path: string, body: object = {}) => wharf.http.post(`/api/v1/projects/ml${path}`).set(bearer(ADMIN_TOKEN)).send(body),
    patch: (path: string, body: object) => wharf.http.patch(`/api/v1/projects/ml${path}`).set(bearer(ADMIN_TOKEN)).send(body),
    delete: (path: string) => wharf.http.delete(`/api/v1/projects/ml${path}`).set(bearer(ADMIN_TOKEN)),
  };

  describe('models', () => {
    it('creates, shows, updates and deletes a model', async () => {
      const created = await api.post('/models', { name: 'bert-base', description: 'BERT', labels: { task: 'nlp' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ project: 'ml', name: 'bert-base', labels: { task: 'nlp' }, versionCount: 0, createdBy: 'admin' });
      await api.patch('/models/bert-base', { labels: { task: 'nlp', size: 'base' } }).expect(200);
      expect((await api.get('/models/bert-base')).body.labels).toEqual({ task: 'nlp', size: 'base' });
      await api.delete('/models/bert-base').expect(204);
      expectProblem(await api.get('/models/bert-base'), 404, 'model_not_found');
    });

    it.each([
      ['uppercase', 'ResNet'],
      ['too long', 'm'.repeat(129)],
      ['dot-dot', 'a..b'],
      ['spaces', 'res net'],
      ['non-ASCII', 'modèle'],
    ])('refuses a model name with %s and stores nothing', async (_, name) => {
      const before = await wharf.count('models');
      expectProblem(await api.post('/models', { name }), 400, 'invalid_name');
      expect(await wharf.count('models')).toBe(before);
    });

    it('refuses an invalid model name in the path', async () => {
      expectProblem(await api.get('/models/Bad%20Name'), 400, 'invalid_name');
    });

    it('refuses a duplicate, unknown fields and bad labels, storing nothing', async () => {
      await createModel(wharf, 'ml', 'taken');
      const before = await wharf.count('models');
      expectProblem(await api.post('/models', { name: 'taken' }), 409, 'model_exists');
      expectProblem(await api.post('/models', { name: 'fresh', owner: 'me' }), 400, 'validation_failed');
      expectProblem(await api.post('/models', { name: 'fresh', labels: { team: 'a b' } }), 400, 'validation_failed');
      expectProblem(await api.post('/models', { name: 'fresh', labels: 'team=a' }), 400, 'validation_failed');
      expectProblem(await api.post('/models', { name: 'fresh', description: 'x'.repeat(5000) }), 400, 'validation_failed');
      expect(await wharf.count('models')).toBe(before);
    });

    it('filters by label and prefix, sorts and paginates', async () => {
      await createModel(wharf, 'ml', 'cv-resnet', { labels: { task: 'vision', arch: 'cnn' } });
      await createModel(wharf, 'ml', 'cv-vit', { labels: { task: 'vision', arch: 'transformer' } });
      await createModel(wharf, 'ml', 'nlp-gpt', { labels: { task: 'text', arch: 'transformer' } });
      const names = async (query: string) =>
        (await api.get(`/models?${query}`).expect(200)).body.items.map((m: { name: string }) => m.name);
      expect(await names('prefix=cv-')).toEqual(['cv-resnet', 'cv-vit']);
      expect(await names('label=arch=transformer')).toEqual(['cv-vit', 'nlp-gpt']);
      expect(await names('label=arch=transformer&label=task=vision')).toEqual(['cv-vit']);
      expect(await names('label=arch,task=text')).toEqual(['nlp-gpt']);
      expect(await names('prefix=cv-&sort=-name')).toEqual(['cv-vit', 'cv-resnet']);
      expect(await names('prefix=cv-&sort=-createdAt')).toEqual(['cv-vit', 'cv-resnet']);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `limit=1&sort=createdAt${cursor ? `&cursor=${cursor}` : ''}`;
        const page = (await api.get(`/models?${query}`).expect(200)).body;
        seen.push(...page.items.map((m: { name: string }) => m.name));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(['taken', 'cv-resnet', 'cv-vit', 'nlp-gpt']);
      expectProblem(await api.get('/models?label=bad key'), 400, 'validation_failed');
    });
  });

  describe('versions', () => {
    beforeAll(async () => {
      await createModel(wharf, 'ml', 'racer');
      await createModel(wharf, 'ml', 'llama');
    });

    it('numbers 50 parallel creations exactly 1..50 with no errors', async () => {
      const responses = await Promise.all(Array.from({ length: 50 }, () => api.post('/models/racer/versions', {})));
      expect(responses.filter((response) => response.status !== 201).map((response) => response.body)).toEqual([]);
      const numbers = responses.map((response) => response.body.number as number).sort((a, b) => a - b);
      expect(numbers).toEqual(Array.from({ length: 50 }, (_, index) => index + 1));
      expect((await api.get('/models/racer')).body.versionCount).toBe(50);
    });

    it('commits a draft, which then refuses every change', async () => {
      const draft = await api.post('/models/llama/versions', { description: 'first', metadata: { framework: 'pytorch' } }).expect(201);
      expect(draft.body).toMatchObject({ state: 'draft', manifestDigest: null, committedAt: null });
      const path = `/models/llama/versions/${draft.body.number}`;
      await api.patch(path, { metadata: { framework: 'pytorch', metrics: { loss: 0.1 } } }).expect(200);
      const committed = await commitWithFile(wharf.http, `/api/v1/projects/ml${path}`, 'weights');
      expect(committed.body).toMatchObject({ state: 'ready', manifestDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
      expect(committed.body.metadata).toEqual({ framework: 'pytorch', metrics: { loss: 0.1 } });
      // Repeating a commit is harmless.
      expect((await api.post(`${path}/commit`).expect(200)).body.committedAt).toBe(committed.body.committedAt);
      expectProblem(await api.patch(path, { metadata: { tampered: true } }), 409, 'version_immutable');
      expectProblem(await api.patch(path, { description: 'rewritten' }), 409, 'version_immutable');
      expect((await api.get(path)).body.metadata).toEqual({ framework: 'pytorch', metrics: { loss: 0.1 } });
    });

    it('is immutable in the schema too, whatever code runs against the database', async () => {
      const draft = await api.post('/models/llama/versions').expect(201);
      await commitWithFile(wharf.http, `/api/v1/projects/ml/models/llama/versions/${draft.body.number}`, 'immutable weights');
      await expect(
        wharf.registry.dataSource.query(
          `UPDATE model_versions SET metadata = '{"x":1}' WHERE number = $1 AND model_id = (SELECT id FROM models WHERE name = 'llama')`,
          [draft.body.number],
        ),
      ).rejects.toThrow(/immutable/);
    });

    it('archives and unarchives a ready version, hiding it from the default listing', async () => {
      const draft = await api.post('/models/llama/versions').expect(201);
      const path = `/models/llama/versions/${draft.body.number}`;
      expectProblem(await api.patch(path, { state: 'archived' }), 409, 'version_state_conflict');
      await commitWithFile(wharf.http, `/api/v1/projects/ml${path}`, 'archived weights');
      await api.patch(path, { state: 'archived' }).expect(200);
      const listed = (await api.get('/models/llama/versions').expect(200)).body.items.map((v: { number: number }) => v.number);
      expect(listed).not.toContain(draft.body.number);
      const archived = (await api.get('/models/llama/versions?state=archived').expect(200)).body.items;
      expect(archived.map((v: { number: number }) => v.number)).toEqual([draft.body.number]);
      await api.patch(path, { state: 'ready' }).expect(200);
      const relisted = (await api.get('/models/llama/versions').expect(200)).body.items.map((v: { number: number }) => v.number);
      expect(relisted).toContain(draft.body.number);
    });

    it('marks a draft failed, after which it cannot be committed', async () => {
      const draft = await api.post('/models/llama/versions').expect(201);
      const path = `/models/llama/versions/${draft.body.number}`;
      await api.patch(path, { state: 'failed' }).expect(200);
      expectProblem(await api.post(`${path}/commit`), 409, 'version_state_conflict');
    });

    it('refuses oversized metadata with 413 and stores nothing', async () => {
      const before = await wharf.count('model_versions');
      const response = await api.post('/models/llama/versions', { metadata: { blob: 'x'.repeat(70 * 1024) } });
      expectProblem(response, 413, 'metadata_too_large');
      expect(response.body.errors).toEqual([expect.objectContaining({ field: 'metadata' })]);
      expect(await wharf.count('model_versions')).toBe(before);
      expect((await api.get('/models/llama')).body.versionCount).toBe(before - 50);
    });

    it('refuses metadata that is not an object, unknown fields and bad version numbers', async () => {
      const before = await wharf.count('model_versions');
      expectProblem(await api.post('/models/llama/versions', { metadata: [1, 2] }), 400, 'validation_failed');
      expectProblem(await api.post('/models/llama/versions', { metadata: 'text' }), 400, 'validation_failed');
      expectProblem(await api.post('/models/llama/versions', { number: 7 }), 400, 'validation_failed');
      expect(await wharf.count('model_versions')).toBe(before);
      for (const bad of ['0', '-1', '01', 'abc', '1.5', '99999999999']) {
        expectProblem(await api.get(`/models/llama/versions/${bad}`), 400, 'validation_failed');
      }
      expectProblem(await api.get('/models/llama/versions/9999'), 404, 'version_not_found');
      expectProblem(await api.post('/models/nope/versions'), 404, 'model_not_found');
    });

    it('never reuses the number of a deleted version', async () => {
      const draft = await api.post('/models/llama/versions').expect(201);
      await api.delete(`/models/llama/versions/${draft.body.number}`).expect(204);
      const next = await api.post('/models/llama/versions').expect(201);
      expect(next.body.number).toBe(draft.body.number + 1);
    });
  });
});
