import { nestRoutes } from '../support/route-table';
import { startTestRegistry, TestRegistry } from '../support/test-registry';

interface Operation {
  summary?: string;
  security?: Record<string, unknown>[];
  requestBody?: unknown;
  parameters?: { name: string; in: string; required?: boolean }[];
  responses: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
}

describe('the OpenAPI document', () => {
  let wharf: TestRegistry;
  let document: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
  beforeAll(async () => {
    wharf = await startTestRegistry();
    document = (await wharf.http.get('/docs-json').expect(200)).body;
  });
  afterAll(async () => {
    await wharf?.close();
  });

  const operations = () =>
    nestRoutes(wharf.registry.app).map((route) => {
      const path = route.path.replace(/[:*]([A-Za-z]+)/g, '{$1}');
      return { route, name: `${route.method} ${path}`, operation: document.paths[path]?.[route.method.toLowerCase()] };
    });

  it('documents every route with a summary', () => {
    const missing = operations().filter(({ operation }) => !operation?.summary).map(({ name }) => name);
    expect(missing).toEqual([]);
  });

  it('documents a typed success response for every route', () => {
    const untyped = operations()
      .filter(({ route, operation }) => {
        const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2'));
        if (!success) return true;
        // HEAD answers headers only; 204 has no body by definition.
        return success[0] !== '204' && route.method !== 'HEAD' && !success[1].content;
      })
      .map(({ name }) => name);
    expect(untyped).toEqual([]);
  });

  it('documents the problems of every authenticated route as problem+json', () => {
    const undocumented = operations()
      .filter(({ route }) => route.access?.kind !== 'public')
      .filter(({ operation }) => {
        const unauthorized = operation.responses['401'];
        const limited = operation.responses['429'];
        return (
          !unauthorized?.content?.['application/problem+json'] ||
          !unauthorized.description.includes('unauthenticated') ||
          !limited?.description.includes('rate_limited')
        );
      })
      .map(({ name }) => name);
    expect(undocumented).toEqual([]);
    expect(document.components.schemas.ProblemDto).toBeDefined();
  });

  it('marks authenticated routes with bearer security and documents their bodies', () => {
    expect(operations().filter(({ route }) => route.readsBody).length).toBeGreaterThan(10);
    for (const { route, name, operation } of operations()) {
      if (route.access?.kind === 'public') continue;
      expect({ name, security: operation.security }).toEqual({ name, security: [{ bearer: [] }] });
      if (route.readsBody) {
        expect({ name, body: Boolean(operation.requestBody) }).toEqual({ name, body: true });
      }
    }
  });

  it('declares every {parameter} of every path as a path parameter of each of its operations', () => {
    const undeclared: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      for (const [method, operation] of Object.entries(operations)) {
        const declared = new Set((operation.parameters ?? []).filter((parameter) => parameter.in === 'path' && parameter.required).map((parameter) => parameter.name));
        for (const name of names) if (!declared.has(name)) undeclared.push(`${method.toUpperCase()} ${path}: {${name}} (declared: ${JSON.stringify(operation.parameters ?? [])})`);
      }
    }
    expect(undeclared).toEqual([]);
    expect(Object.keys(document.paths).filter((path) => path.includes('{')).length).toBeGreaterThan(30);
  });

  it('serves the Swagger UI', async () => {
    const response = await wharf.http.get('/docs/').expect(200);
    expect(response.text).toContain('swagger');
  });
});
