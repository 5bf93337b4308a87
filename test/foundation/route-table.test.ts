import { expressRoutes, nestRoutes } from '../support/route-table';
import { startTestRegistry, TestRegistry } from '../support/test-registry';

/** Swagger UI and the OpenAPI document are served outside Nest's controllers, deliberately public. */
const isDocsRoute = (path: string) => path === '/docs' || path.startsWith('/docs/') || path === '/docs-json' || path === '/docs-yaml';

describe('the route table', () => {
  let wharf: TestRegistry;
  beforeAll(async () => {
    wharf = await startTestRegistry();
  });
  afterAll(async () => {
    await wharf?.close();
  });

  it('gives every route an explicit authentication decision', () => {
    const routes = nestRoutes(wharf.registry.app);
    expect(routes.length).toBeGreaterThan(20);
    const undecided = routes.filter((route) => route.access === undefined).map((route) => `${route.method} ${route.path} (${route.controller}.${route.handler})`);
    expect(undecided).toEqual([]);
  });

  it('keeps public only the health, metrics, docs, TokenReview and scheduler extender routes', () => {
    const publicRoutes = nestRoutes(wharf.registry.app)
      .filter((route) => route.access?.kind === 'public')
      .map((route) => `${route.method} ${route.path}`)
      .sort();
    // TokenReview is called by kube-apiserver, which authenticates with its own (optional) bearer.
    // The scheduler extender is called by kube-scheduler, which proves itself with SCHEDULER_EXTENDER_TOKEN.
    expect(publicRoutes).toEqual([
      'GET /healthz', 'GET /metrics', 'GET /readyz', 'POST /api/v1/authn/tokenreview',
      'POST /api/v1/scheduler/filter', 'POST /api/v1/scheduler/prioritize', 'POST /api/v1/scheduler/t/:token/filter', 'POST /api/v1/scheduler/t/:token/prioritize',
    ]);
  });

  it('requires :project in the path of every project-scoped route', () => {
    const misplaced = nestRoutes(wharf.registry.app).filter(
      (route) => route.access?.kind === 'project' && !route.path.includes('/:project'),
    );
    expect(misplaced).toEqual([]);
  });

  it('serves nothing through Express that Nest does not know, except the docs', () => {
    const known = new Set(nestRoutes(wharf.registry.app).map((route) => `${route.method} ${route.path}`));
    const unknown = expressRoutes(wharf.registry.app).filter(
      (route) => !known.has(`${route.method} ${route.path}`) && !isDocsRoute(route.path),
    );
    expect(unknown).toEqual([]);
  });

  it('answers 401 on every non-public route without a token', async () => {
    for (const route of nestRoutes(wharf.registry.app).filter((entry) => entry.access?.kind !== 'public')) {
      const path = route.path.replace(/:[A-Za-z]+/g, 'x1');
      const response = await wharf.http[route.method.toLowerCase() as 'get'](path);
      expect({ route: `${route.method} ${route.path}`, status: response.status }).toEqual({ route: `${route.method} ${route.path}`, status: 401 });
    }
  });
});
