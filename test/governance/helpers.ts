import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../support/eventually';
import { ADMIN_TOKEN, bearer, TestRegistry } from '../support/test-registry';
import type { Role } from '../../src/auth/roles';
import { AuthService } from '../../src/auth/auth.service';

type Http = TestRegistry['http'];

/** The seed builder every test uses (test/support/fixtures.ts), under the name these tests import. */
export { createProject } from '../support/fixtures';

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
  await eventually(
    async () => {
      await use();
      // The invalidation of an earlier write may arrive just after this use: look a moment later.
      await sleep(100);
      return Boolean(auth.cachedAuthentication(token));
    },
    'the token to be kept in the token cache',
    { timeoutMs: 10_000, everyMs: 0, rethrow: true },
  );
}
