import supertest from 'supertest';
import { ADMIN_TOKEN, bearer, TestRegistry } from './test-registry';

type Agent = ReturnType<typeof supertest>;

/**
 * Where a seed step goes: an in-process test registry, a supertest agent bound to one, or the
 * base URL of any registry (a child process, a bench's).
 */
export type SeedTarget = TestRegistry | Agent | string;

function agentOf(target: SeedTarget): Agent {
  if (typeof target === 'string') return supertest(target);
  return 'http' in target && 'registry' in target ? target.http : (target as Agent);
}

/** Small API steps the tests and benches share, as the platform admin; each one asserts that it worked. */
export async function createProject(target: SeedTarget, name: string): Promise<void> {
  const response = await agentOf(target).post('/api/v1/projects').set(bearer(ADMIN_TOKEN)).send({ name });
  if (response.status !== 201) throw new Error(`creating project ${name}: ${response.status} ${JSON.stringify(response.body)}`);
}

export async function createModel(target: SeedTarget, project: string, name: string, extra: object = {}): Promise<void> {
  const response = await agentOf(target).post(`/api/v1/projects/${project}/models`).set(bearer(ADMIN_TOKEN)).send({ name, ...extra });
  if (response.status !== 201) throw new Error(`creating model ${name}: ${response.status} ${JSON.stringify(response.body)}`);
}

export async function addMember(target: SeedTarget, project: string, principal: string, role: string): Promise<void> {
  const response = await agentOf(target)
    .put(`/api/v1/projects/${project}/members/${principal}`)
    .set(bearer(ADMIN_TOKEN))
    .send({ role });
  if (response.status !== 200) throw new Error(`adding ${principal}: ${response.status} ${JSON.stringify(response.body)}`);
}

/** A token for `principal` made by the platform admin; returns the secret. */
export async function createToken(
  target: SeedTarget,
  principal: string,
  options: { project?: string; role?: string; expiresInDays?: number; expiresAt?: string } = {},
): Promise<string> {
  const response = await agentOf(target)
    .post('/api/v1/tokens')
    .set(bearer(ADMIN_TOKEN))
    .send({ name: `${principal}-token`, principal, ...options });
  if (response.status !== 201) throw new Error(`creating token: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.token as string;
}

/** Asserts an RFC 9457 problem document with the given status and code. */
export function expectProblem(response: { status: number; headers: Record<string, string>; body: Record<string, unknown> }, status: number, code: string): void {
  expect({ status: response.status, code: response.body.code }).toEqual({ status, code });
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ type: `urn:wharf:problem:${code}`, status, title: expect.any(String), detail: expect.any(String) });
  expect(JSON.stringify(response.body)).not.toMatch(/\bat .*\.(ts|js):\d+/);
}

/**
 * Gives a draft one small file through the form upload and commits it. A version needs at
 * least one file to become ready; `content` decides its manifest digest (same content, same
 * digest).
 */
export async function commitWithFile(http: Agent, versionPath: string, content: string, token = ADMIN_TOKEN): Promise<{ body: Record<string, unknown> }> {
  const uploaded = await http
    .post(`${versionPath}/files`)
    .set(bearer(token))
    .attach('file', Buffer.from(content), { filename: 'weights.bin', contentType: 'application/octet-stream' });
  if (uploaded.status !== 201) throw new Error(`uploading to ${versionPath}: ${uploaded.status} ${JSON.stringify(uploaded.body)}`);
  const committed = await http.post(`${versionPath}/commit`).set(bearer(token));
  if (committed.status !== 200) throw new Error(`committing ${versionPath}: ${committed.status} ${JSON.stringify(committed.body)}`);
  return committed;
}
