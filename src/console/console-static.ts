import type { NextFunction, Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * The web console's policy: everything from this origin, nothing inline. Vite emits the app as
 * module scripts and stylesheet files, and React sets styles through the CSSOM (which CSP does
 * not govern), so neither 'unsafe-inline' nor a nonce is needed. The API is the only thing the
 * console connects to.
 */
export const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Paths the registry answers itself; the console never shadows them, even as a fallback. */
const REGISTRY_PREFIXES = ['/api', '/healthz', '/readyz', '/metrics', '/docs'];

/** Vite names every file under assets/ by its content hash: a new build is a new name. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html names the current assets, so a browser must ask again (cheaply: ETag) each load. */
const REVALIDATE = 'no-cache';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

interface StaticFile {
  body: Buffer;
  /** Present when gzip makes the file smaller. */
  gzipped?: Buffer;
  type: string;
  etag: string;
  cacheControl: string;
}

/** The built console (dist/web beside the registry's dist/src), found from the package root. */
export function consoleDirectory(from = __dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'dist', 'web');
}

/**
 * Loads the built console into memory (a few hundred KiB, compressed once here rather than on
 * every request) and answers it at `/`: files by path, and index.html for any other page path a
 * browser asks for, so deep links work. Without a build, it stays out of the way.
 */
export function consoleStatic(directory = consoleDirectory()): (request: Request, response: Response, next: NextFunction) => void {
  const files = loadFiles(directory);
  const index = files.get('/index.html');
  return (request, response, next) => {
    if (!index || (request.method !== 'GET' && request.method !== 'HEAD') || isRegistryPath(request.path)) return next();
    let file = files.get(request.path === '/' ? '/index.html' : request.path);
    if (!file) {
      // A page of the app (/projects/vision/models) that a browser navigates to is index.html; a
      // missing asset, or a client that did not ask for HTML (curl, an SDK), gets the registry's 404.
      const wantsPage = (request.headers.accept ?? '').includes('text/html');
      if (request.path.startsWith('/assets/') || path.extname(request.path) !== '' || !wantsPage) return next();
      file = index;
    }
    send(request, response, file);
  };
}

function isRegistryPath(requestPath: string): boolean {
  return REGISTRY_PREFIXES.some((prefix) => requestPath === prefix || requestPath.startsWith(`${prefix}/`) || requestPath.startsWith(`${prefix}-`));
}

function send(request: Request, response: Response, file: StaticFile): void {
  response.set({
    'Content-Security-Policy': CONSOLE_CONTENT_SECURITY_POLICY,
    'Cache-Control': file.cacheControl,
    'Content-Type': file.type,
    ETag: file.etag,
    Vary: 'Accept-Encoding',
  });
  if (request.fresh) {
    response.status(304).end();
    return;
  }
  const gzip = file.gzipped && request.acceptsEncodings('gzip', 'identity') === 'gzip';
  const body = gzip ? file.gzipped! : file.body;
  if (gzip) response.set('Content-Encoding', 'gzip');
  response.set('Content-Length', String(body.length));
  if (request.method === 'HEAD') response.end();
  else response.end(body);
}

function loadFiles(directory: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  if (!existsSync(path.join(directory, 'index.html'))) return files;
  for (const relative of listFiles(directory)) {
    const body = readFileSync(path.join(directory, relative));
    const urlPath = `/${relative.split(path.sep).join('/')}`;
    const type = CONTENT_TYPES[path.extname(relative)] ?? 'application/octet-stream';
    const compressible = /^(text\/|application\/json|image\/svg)/.test(type);
    const gzipped = compressible ? gzipSync(body, { level: 9 }) : undefined;
    files.set(urlPath, {
      body,
      gzipped: gzipped && gzipped.length < body.length ? gzipped : undefined,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      cacheControl: urlPath.startsWith('/assets/') ? IMMUTABLE : REVALIDATE,
    });
  }
  return files;
}

function listFiles(directory: string, prefix = ''): string[] {
  return readdirSync(path.join(directory, prefix)).flatMap((name) => {
    const relative = path.join(prefix, name);
    if (name.startsWith('.')) return [];
    return statSync(path.join(directory, relative)).isDirectory() ? listFiles(directory, relative) : [relative];
  });
}
