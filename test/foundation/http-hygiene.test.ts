import { expectProblem, commitWithFile, createModel, createProject } from '../support/fixtures';
import { ADMIN_TOKEN, bearer, startTestRegistry, TestRegistry } from '../support/test-registry';

const CONSOLE = 'https://console.example.com';

/** A browser's preflight for a cross-origin PUT carrying a token. */
const preflight = (wharf: TestRegistry, path: string, origin: string, method = 'PUT') =>
  wharf.http.options(path).set('Origin', origin).set('Access-Control-Request-Method', method).set('Access-Control-Request-Headers', 'authorization, content-type');

describe('HTTP hygiene', () => {
  describe('with the default configuration', () => {
    let wharf: TestRegistry;
    beforeAll(async () => {
      wharf = await startTestRegistry();
      await createProject(wharf, 'hygiene');
      await createModel(wharf, 'hygiene', 'm');
      await wharf.http.post('/api/v1/projects/hygiene/models/m/versions').set(bearer(ADMIN_TOKEN)).send({}).expect(201);
      await commitWithFile(wharf.http, '/api/v1/projects/hygiene/models/m/versions/1', '0123456789');
    });
    afterAll(async () => {
      await wharf?.close();
    });

    it.each([
      ['an API answer', (w: TestRegistry) => w.http.get('/api/v1/projects').set(bearer(ADMIN_TOKEN))],
      ['a problem', (w: TestRegistry) => w.http.get('/api/v1/projects')],
      ['an unknown route', (w: TestRegistry) => w.http.get('/nowhere')],
      ['a health check', (w: TestRegistry) => w.http.get('/healthz')],
      ['a file download', (w: TestRegistry) => w.http.get('/api/v1/projects/hygiene/models/m/versions/1/files/weights.bin').set(bearer(ADMIN_TOKEN))],
      ['a cached resolve', (w: TestRegistry) => w.http.get('/api/v1/projects/hygiene/models/m/resolve?ref=hygiene%2Fm%401').set(bearer(ADMIN_TOKEN))],
    ])('sends nosniff, frame and referrer protection and a closed CSP on %s', async (_, request) => {
      // Twice: the second resolve is answered by the fast path, which bypasses Express.
      for (const response of [await request(wharf), await request(wharf)]) {
        expect(response.headers['x-content-type-options']).toBe('nosniff');
        expect(response.headers['x-frame-options']).toBe('DENY');
        expect(response.headers['referrer-policy']).toBe('no-referrer');
        expect(response.headers['content-security-policy']).toContain("default-src 'none'");
        expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      }
    });

    it('serves /docs with a CSP that lets the Swagger UI load its own scripts and styles and nothing inline', async () => {
      const page = await wharf.http.get('/docs/').expect(200);
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
      expect(csp).toContain("frame-ancestors 'none'");
      const scripts = [...page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attributes, body] of scripts) {
        // No inline script, and every script comes from this origin (a relative URL).
        expect({ attributes, body: body.trim() }).toEqual({ attributes: expect.stringMatching(/src="(\.\/|\/)[^"]+"/), body: '' });
        const src = /src="([^"]+)"/.exec(attributes)![1];
        const script = await wharf.http.get(new URL(src, `${wharf.url}/docs/`).pathname).expect(200);
        expect(script.headers['content-type']).toMatch(/javascript/);
      }
      for (const [, href] of page.text.matchAll(/<link[^>]*href="([^"]+)"/g)) {
        await wharf.http.get(new URL(href, `${wharf.url}/docs/`).pathname).expect(200);
      }
      // The init script carries the document itself: the UI needs no cross-origin fetch.
      const init = await wharf.http.get('/docs/swagger-ui-init.js').expect(200);
      expect(init.text).toContain('"openapi"');
    });

    it('answers a Range past the end with 416 as problem+json, with Content-Range', async () => {
      const url = '/api/v1/projects/hygiene/models/m/versions/1/files/weights.bin';
      const past = await wharf.http.get(url).set(bearer(ADMIN_TOKEN)).set('Range', 'bytes=10-');
      expectProblem(past, 416, 'range_not_satisfiable');
      expect(past.headers['content-range']).toBe('bytes */10');
      expect(past.body).toMatchObject({ size: 10, instance: url });
      const head = await wharf.http.head(url).set(bearer(ADMIN_TOKEN)).set('Range', 'bytes=-0').expect(416);
      expect(head.headers['content-range']).toBe('bytes */10');
      expect(head.headers['content-type']).toMatch(/^application\/problem\+json/);
      await wharf.http.get(url).set(bearer(ADMIN_TOKEN)).set('Range', 'bytes=9-').expect(206);
    });

    it('allows no cross-origin access when no origin is configured', async () => {
      const answer = await wharf.http.get('/api/v1/projects').set(bearer(ADMIN_TOKEN)).set('Origin', CONSOLE).expect(200);
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
      const refused = await preflight(wharf, '/api/v1/projects/hygiene/quota', CONSOLE);
      expectProblem(refused, 403, 'forbidden');
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
      expect(refused.headers['access-control-allow-methods']).toBeUndefined();
    });
  });

  describe('with CORS_ALLOWED_ORIGINS set', () => {
    let wharf: TestRegistry;
    beforeAll(async () => {
      wharf = await startTestRegistry({ CORS_ALLOWED_ORIGINS: `${CONSOLE}, http://localhost:3000` });
      await createProject(wharf, 'cors');
      await createModel(wharf, 'cors', 'm');
    });
    afterAll(async () => {
      await wharf?.close();
    });

    it('answers the preflight of an allowed origin with the methods and headers the API reads', async () => {
      const answer = await preflight(wharf, '/api/v1/projects/cors/quota', CONSOLE).expect(204);
      expect(answer.headers['access-control-allow-origin']).toBe(CONSOLE);
      expect(answer.headers['access-control-allow-methods']).toMatch(/\bPUT\b/);
      expect(answer.headers['access-control-allow-headers']).toMatch(/\bAuthorization\b/);
      expect(answer.headers['access-control-allow-headers']).toMatch(/\bContent-Type\b/);
      expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
      expect(Number(answer.headers['access-control-max-age'])).toBeGreaterThan(0);
      expect(answer.headers.vary).toMatch(/Origin/);
      // A preflight carries no token: it must not be refused as unauthenticated.
      expect(answer.headers['www-authenticate']).toBeUndefined();
    });

    it('marks answers to an allowed origin readable and exposes the headers clients need', async () => {
      const answer = await wharf.http.get('/api/v1/projects/cors/models/m').set(bearer(ADMIN_TOKEN)).set('Origin', 'http://localhost:3000').expect(200);
      expect(answer.headers['access-control-allow-origin']).toBe('http://localhost:3000');
      expect(answer.headers['access-control-expose-headers']).toMatch(/\bETag\b.*\bRetry-After\b|\bRetry-After\b.*\bETag\b/);
      expect(answer.headers.vary).toMatch(/Origin/);
      const problem = await wharf.http.get('/api/v1/projects/cors/models/m').set('Origin', CONSOLE).expect(401);
      expect(problem.headers['access-control-allow-origin']).toBe(CONSOLE);
      // A cross-origin resolve takes the full path too, even once its answer is cached.
      for (let i = 0; i < 2; i++) {
        const resolve = await wharf.http.get('/api/v1/projects/cors/models/m/resolve?ref=cors%2Fm%3Alatest').set(bearer(ADMIN_TOKEN)).set('Origin', CONSOLE);
        expect(resolve.headers['access-control-allow-origin']).toBe(CONSOLE);
      }
    });

    it('refuses the preflight of any other origin and marks none of its answers', async () => {
      const refused = await preflight(wharf, '/api/v1/projects/cors/quota', 'https://evil.example.com');
      expectProblem(refused, 403, 'forbidden');
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
      const answer = await wharf.http.get('/api/v1/projects').set(bearer(ADMIN_TOKEN)).set('Origin', 'https://evil.example.com').expect(200);
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('refuses a preflight for a method the API does not have', async () => {
      expectProblem(await preflight(wharf, '/api/v1/projects', CONSOLE, 'TRACE'), 403, 'forbidden');
    });
  });
});
