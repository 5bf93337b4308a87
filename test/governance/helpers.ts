import { ADMIN_TOKEN, bearer, TestRegistry } from '../support/test-registry';
import type { Role } from '../../src/auth/roles';
import { AuthService } from '../../src/auth/auth.service';

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

/**
 * Uses a token until the registry keeps it in its token cache. A replica hears its own
 * invalidations back through LISTEN a moment after each write (membership changes empty the
 * token cache), so a token verified right after a write may be forgotten again at once.
 */
export async function untilCached(registry: TestRegistry, token: string, use: () => Promise<unknown>): Promise<void> {
  const auth = registry.registry.app.get(AuthService);
  const deadline = Date.now() + 10_000;
  for (;;) {
    await use();
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (auth.cachedAuthentication(token)) return;
    if (Date.now() > deadline) throw new Error('the token was never kept in the token cache');
  }
}
