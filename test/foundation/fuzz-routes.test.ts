import { Agent } from 'node:http';
import { ARTIFACT_STORE, ArtifactStore } from '../../src/storage/artifact-store';
import { createUpload } from '../support/artifacts';
import { commitWithFile, createModel, createProject, createToken } from '../support/fixtures';
import { BAD_NUMBERS, BAD_SEGMENTS, badBodies, badQueries, badValues, pick, PropertySchema, RawBody, seededRandom } from '../support/fuzz-inputs';
import { rawRequest, RawResponse } from '../support/raw-http';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

interface Operation {
  parameters?: { name: string; in: string; required?: boolean; schema?: PropertySchema }[];
  requestBody?: { content: Record<string, { schema?: PropertySchema & { properties?: Record<string, PropertySchema>; required?: string[] } }> };
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, PropertySchema & { properties?: Record<string, PropertySchema>; required?: string[] }> };
}

interface Probe {
  operation: string;
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** Every table a request could write to: a refused request must leave each count as it was. */
const TABLES = [
  'principals',
  'api_tokens',
  'projects',
  'project_members',
  'project_storage',
  'models',
  'model_versions',
  'version_files',
  'blobs',
  'uploads',
  'upload_parts',
  'tags',
  'tag_history',
  'endpoints',
  'endpoint_routes',
  'nodes',
  'node_cache_entries',
  'warmups',
  'webhook_subscriptions',
];

/** A setup step worked (200 or 201 alike). */
const succeeded = (response: { status: number; text: string }) => {
  if (response.status >= 300) throw new Error(`${response.status} ${response.text}`);
};

const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete'];
const NUMERIC_PARAMS = new Set(['version', 'ref', 'n']);

/**
 * Walks every operation of the registry's own OpenAPI document and sends it malformed input of
 * every class a careless client or an attacker produces: bad path segments (traversal, encoded
 * slashes, NUL, bad UTF-8, lone surrogates, huge), bad query values, bodies of the wrong type,
 * encoding or shape, and each body field with a value its schema refuses. With a valid token, so
 * the input reaches the code behind authentication. Nothing may answer 5xx, a mutation must be
 * refused, and nothing may be stored. Seeded (FUZZ_SEED) so a failure repeats.
 */
describe('every route under malformed input', () => {
  const seed = Number(process.env.FUZZ_SEED ?? 20261202);
  const random = seededRandom(seed);
  let wharf: TestRegistry;
  let document: OpenApi;
  let agentToken: string;
  const ids: Record<string, string> = {};
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });

  beforeAll(async () => {
    wharf = await startTestRegistry({ RATE_LIMIT_ENABLED: 'false' });
    await createProject(wharf, 'fz');
    await createModel(wharf, 'fz', 'm');
    const versions = '/api/v1/projects/fz/models/m/versions';
    await wharf.http.post(versions).set(bearer(ADMIN_TOKEN)).send({}).expect(201);
    await commitWithFile(wharf.http, `${versions}/1`, 'fuzz weights');
    await wharf.http.post(versions).set(bearer(ADMIN_TOKEN)).send({}).expect(201);
    await wharf.http.put('/api/v1/projects/fz/models/m/tags/prod').set(bearer(ADMIN_TOKEN)).send({ version: 1 }).expect(200);
    await wharf.http.put('/api/v1/projects/fz/endpoints/ep').set(bearer(ADMIN_TOKEN)).send({ routes: [{ ref: 'm:prod', weight: 100 }] }).expect(succeeded);
    await wharf.http.put('/api/v1/projects/fz/members/someone').set(bearer(ADMIN_TOKEN)).send({ role: 'viewer' }).expect(succeeded);
    await createToken(wharf, 'someone');
    ids.token = (await wharf.http.get('/api/v1/tokens').set(bearer(ADMIN_TOKEN)).expect(200)).body.items[0].id;
    ids.upload = (await createUpload(wharf.url, versions + '/2', { path: 'big.bin', data: Buffer.from('0123456789') })).id;
    const warmup = await wharf.http.post('/api/v1/projects/fz/warmups').set(bearer(ADMIN_TOKEN)).send({ model: 'm', ref: 'prod', selector: { matchLabels: {} } }).expect(201);
    ids.warmup = warmup.body.id;
    const created = await wharf.http
      .post('/api/v1/tokens')
      .set(bearer(ADMIN_TOKEN))
      .send({ name: 'agents', principal: 'node-agents', principalKind: 'node-agent' })
      .expect(201);
    agentToken = created.body.token;
    await wharf.http
      .put('/api/v1/nodes/node-a')
      .set(bearer(agentToken))
      .send({ labels: {}, capacityBytes: 10, budgetBytes: 10, usedBytes: 0, entries: [], demands: [] })
      .expect(200);
    document = (await wharf.http.get('/docs-json').expect(200)).body;
  }, 180_000);
  afterAll(async () => {
    agent.destroy();
    await wharf?.close();
  });

  /** A valid value for each path parameter, so that one mutated parameter is the only fault. */
  function validParam(name: string, path: string): string {
    const values: Record<string, string> = {
      project: 'fz',
      model: 'm',
      version: '2',
      ref: '1',
      tag: 'prod',
      path: 'weights.bin',
      n: '1',
      node: 'node-a',
      principal: 'someone',
      endpoint: 'ep',
    };
    if (name === 'id') {
      if (path.includes('/uploads/')) return ids.upload;
      if (path.includes('/tokens/')) return ids.token;
      if (path.includes('/warmups/')) return ids.warmup;
      return '00000000-0000-4000-8000-000000000000';
    }
    return values[name] ?? 'x';
  }

  function schemaOf(schema: PropertySchema | undefined): (PropertySchema & { properties?: Record<string, PropertySchema>; required?: string[] }) | undefined {
    if (schema?.$ref) return document.components.schemas[schema.$ref.split('/').pop() as string];
    return schema;
  }

  /** The probes for one operation: each carries exactly one malformed part. */
  function probesFor(template: string, method: string, operation: Operation): Probe[] {
    const name = `${method.toUpperCase()} ${template}`;
    const params = [...template.matchAll(/\{([A-Za-z]+)\}/g)].map((match) => match[1]);
    const fill = (replace: Record<string, string> = {}) =>
      template.replace(/\{([A-Za-z]+)\}/g, (_, param: string) => replace[param] ?? encodeURIComponent(validParam(param, template)).replace(/%2F/g, '/'));
    const token = template.startsWith('/api/v1/nodes') && method === 'put' ? agentToken : ADMIN_TOKEN;
    const base = { operation: name, method: method.toUpperCase(), headers: bearer(token) };
    const jsonContent = operation.requestBody?.content['application/json'];
    const emptyJson = jsonContent ? { headers: { ...bearer(token), 'Content-Type': 'application/json' }, body: Buffer.from('{}') } : {};
    const probes: Probe[] = [];
    const writes = method !== 'get' && method !== 'head';

    for (const param of params) {
      const values = [...pick(random, BAD_SEGMENTS, 5), ...(NUMERIC_PARAMS.has(param) ? pick(random, BAD_NUMBERS, 4) : [])];
      for (const value of values) probes.push({ ...base, ...emptyJson, label: `path {${param}} = ${value.slice(0, 40)}`, path: fill({ [param]: value }) });
    }

    const declared = (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    if (!writes) {
      for (const query of [...declared, ...pick(random, ['prefix', 'limit', 'cursor', 'before', 'ref', 'key', 'label', 'sort'], 2)]) {
        for (const value of pick(random, badQueries(query), 4)) probes.push({ ...base, label: `query ${value.slice(0, 40)}`, path: `${fill()}?${value}` });
      }
    } else {
      // A mutation with a valid path and an ignored query would be carried out: only values no
      // declared parameter accepts.
      for (const query of declared) {
        for (const value of [`${query}=%00`, `${query}=%ED%A0%80`, `${query}[a]=1`]) probes.push({ ...base, ...emptyJson, label: `query ${value}`, path: `${fill()}?${value}` });
      }
    }

    const content = operation.requestBody?.content ?? {};
    if (jsonContent) {
      const schema = schemaOf(jsonContent.schema);
      for (const raw of badBodies((schema?.required ?? []).length > 0)) probes.push(bodyProbe(base, fill(), raw));
      for (const [property, propertySchema] of Object.entries(schema?.properties ?? {})) {
        const resolved = schemaOf(propertySchema) ?? {};
        for (const value of pick(random, badValues({ ...resolved, nullable: propertySchema.nullable ?? resolved.nullable }), 6)) {
          probes.push(bodyProbe(base, fill(), { label: `${property} = ${value.slice(0, 40)}`, contentType: 'application/json', body: Buffer.from(`{"${property}":${value}}`) }));
        }
      }
    } else if (content['multipart/form-data']) {
      // The form upload: wrong types, and closed forms whose one file has a path no version may hold.
      for (const raw of badBodies(false).slice(0, 6)) probes.push(bodyProbe(base, fill(), raw));
      for (const filename of ['../evil.bin', '/etc/passwd', 'a/../../b', 'nul\u0000.bin', '.', '']) {
        const form = `--BB\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\nXXXX\r\n--BB--\r\n`;
        probes.push(bodyProbe(base, fill(), { label: `form file ${JSON.stringify(filename)}`, contentType: 'multipart/form-data; boundary=BB', body: Buffer.from(form, 'latin1') }));
      }
    } else if (content['application/octet-stream']) {
      for (const raw of badBodies(false).slice(0, 3)) probes.push(bodyProbe(base, fill(), raw));
    }
    return probes;
  }

  function bodyProbe(base: Omit<Probe, 'label' | 'path'>, path: string, raw: RawBody): Probe {
    const headers = { ...base.headers, ...raw.headers, ...(raw.contentType ? { 'Content-Type': raw.contentType } : {}) };
    return { ...base, label: `body ${raw.label}`, path, headers, body: raw.body };
  }

  async function storedObjects(): Promise<string[]> {
    const store = wharf.registry.app.get<ArtifactStore>(ARTIFACT_STORE);
    const keys: string[] = [];
    for await (const object of store.list('')) keys.push(object.key);
    return keys.sort();
  }

  async function counts(): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const table of TABLES) result[table] = await wharf.count(table);
    return result;
  }

  it('answers no 5xx, refuses every malformed mutation and stores nothing', async () => {
    const probes: Probe[] = [];
    for (const [template, operations] of Object.entries(document.paths)) {
      for (const method of METHODS) {
        if (operations[method]) probes.push(...probesFor(template, method, operations[method]));
      }
    }
    const operationCount = new Set(probes.map((probe) => probe.operation)).size;
    expect(operationCount).toBeGreaterThan(60);

    const before = { rows: await counts(), objects: await storedObjects() };
    const failures: string[] = [];
    const accepted: string[] = [];
    const describe = (probe: Probe, response: RawResponse) => `${response.status} ${probe.operation} [${probe.label}] ${response.text.slice(0, 160)}`;
    const started = Date.now();
    // Four at a time: enough to keep the registry busy, few enough to stay deterministic in what is sent.
    for (let index = 0; index < probes.length; index += 4) {
      await Promise.all(
        probes.slice(index, index + 4).map(async (probe) => {
          const response = await rawRequest(wharf.url, probe, agent);
          if (response.status >= 500) failures.push(describe(probe, response));
          if (probe.method !== 'GET' && probe.method !== 'HEAD' && response.status < 400) accepted.push(describe(probe, response));
        }),
      );
    }
    const elapsed = Date.now() - started;
    expect({ seed, failures }).toEqual({ seed, failures: [] });
    expect({ seed, accepted }).toEqual({ seed, accepted: [] });
    expect({ rows: await counts(), objects: await storedObjects() }).toEqual(before);
    // The registry is still serving, and the walk was the size it claims.
    await wharf.http.get('/healthz').expect(200);
    process.stdout.write(`fuzz: ${probes.length} requests over ${operationCount} operations in ${elapsed} ms (seed ${seed})\n`);
  }, 300_000);
});
