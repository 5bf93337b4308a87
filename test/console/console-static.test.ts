import express from 'express';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import supertest from 'supertest';
import { securityHeaders } from '../../src/common/http/security-headers';
import { CONSOLE_CONTENT_SECURITY_POLICY, consoleStatic } from '../../src/console/console-static';

/** The registry's order: security headers, then the console, then the API (here: a stand-in). */
async function serve(directory: string): Promise<{ http: ReturnType<typeof supertest>; close: () => Promise<void> }> {
  const app = express();
  app.use(securityHeaders());
  app.use(consoleStatic(directory));
  app.use((request, response) => response.status(404).json({ answeredBy: 'registry', path: request.path }));
  const server: Server = await new Promise((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return { http: supertest(`http://127.0.0.1:${port}`), close: () => new Promise((resolve) => server.close(() => resolve())) };
}

let dir: string;
let site: Awaited<ReturnType<typeof serve>>;
const INDEX = '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wharf-console-static-'));
  await mkdir(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'index.html'), INDEX);
  await writeFile(path.join(dir, 'assets', 'index-abc123.js'), SCRIPT);
  await writeFile(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  site = await serve(dir);
});
afterAll(async () => {
  await site?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the console served by the registry', () => {
  it('answers / with index.html, no-cache, and a CSP without unsafe-inline', async () => {
    const response = await site.http.get('/').expect(200);
    expect(response.text).toBe(INDEX);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['content-security-policy']).toBe(CONSOLE_CONTENT_SECURITY_POLICY);
    expect(CONSOLE_CONTENT_SECURITY_POLICY).not.toContain('unsafe');
    expect(CONSOLE_CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(response.headers['x-frame-options']).toBe('DENY');
  });

  it('caches hashed assets for a year as immutable and sends them gzipped when asked', async () => {
    const response = await site.http.get('/assets/index-abc123.js').set('Accept-Encoding', 'gzip').expect(200);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(Number(response.headers['content-length'])).toBeLessThan(SCRIPT.length / 4);
    expect(response.text).toBe(SCRIPT);
    const plain = await site.http.get('/assets/index-abc123.js').set('Accept-Encoding', 'identity').expect(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(Number(plain.headers['content-length'])).toBe(Buffer.byteLength(SCRIPT));
  });

  it('answers 304 to a matching If-None-Match and HEAD without a body', async () => {
    const first = await site.http.get('/').expect(200);
    await site.http.get('/').set('If-None-Match', first.headers.etag).expect(304);
    const head = await site.http.head('/favicon.svg').expect(200);
    expect(head.headers['content-type']).toBe('image/svg+xml');
    expect(head.text ?? '').toBe('');
  });

  it("answers a page path of the app with index.html, so deep links work", async () => {
    const response = await site.http.get('/projects/vision/models/resnet50').set('Accept', 'text/html').expect(200);
    expect(response.text).toBe(INDEX);
    // A client that does not ask for a page (curl, an SDK) gets the registry's 404, not HTML.
    expect((await site.http.get('/projects/vision/models/resnet50').set('Accept', '*/*').expect(404)).body).toMatchObject({ answeredBy: 'registry' });
  });

  it('leaves the API, the probes, the metrics and the docs to the registry, and missing assets 404', async () => {
    for (const route of ['/api/v1/projects', '/api', '/healthz', '/readyz', '/metrics', '/docs', '/docs-json', '/docs/index.html']) {
      const response = await site.http.get(route).set('Accept', 'text/html').expect(404);
      expect(response.body).toEqual({ answeredBy: 'registry', path: route });
      expect(response.headers['content-security-policy']).not.toBe(CONSOLE_CONTENT_SECURITY_POLICY);
    }
    await site.http.get('/assets/index-gone.js').expect(404);
    await site.http.get('/robots.txt').expect(404);
    // Only reads: a POST to a page path is the registry's to refuse.
    await site.http.post('/projects').set('Accept', 'text/html').expect(404);
  });

  it('stays out of the way when the console was not built', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'wharf-console-none-'));
    const bare = await serve(empty);
    try {
      expect((await bare.http.get('/').set('Accept', 'text/html').expect(404)).body).toEqual({ answeredBy: 'registry', path: '/' });
    } finally {
      await bare.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
