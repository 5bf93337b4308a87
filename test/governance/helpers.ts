import { ADMIN_TOKEN, bearer, TestRegistry } from '../support/test-registry';
import type { Role } from '../../src/auth/roles';

type Http = TestRegistry['http'];

export async function createProject(http: Http, name: string): Promise<void> {
  await http.post('/api/v1/projects').set(bearer(ADMIN_TOKEN)).send({ name }).expect(201);
}

/** Makes `principal` a member of `project` with `role` and returns a new token of theirs. */
export async function memberToken(
  http: Http,
  project: string,
  principal: string,
  role: Role,
  token: { project?: string; role?: Role; expiresInDays?: number } = {},
): Promise<{ token: string; id: string }> {
  await http.put(`/api/v1/projects/${project}/members/${principal}`).set(bearer(ADMIN_TOKEN)).send({ role }).expect(200);
  const created = await http
    .post('/api/v1/tokens')
    .set(bearer(ADMIN_TOKEN))
    .send({ name: `${principal}-token`, principal, ...token })
    .expect(201);
  return { token: created.body.token, id: created.body.id };
}
