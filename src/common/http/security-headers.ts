import type { NextFunction, Request, Response } from 'express';

/**
 * Headers every answer carries. The API answers JSON and bytes, never pages, so nothing of it
 * may be sniffed into HTML, framed, or told where the caller came from.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  // A JSON answer opened in a browser tab loads nothing and runs nothing.
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

/**
 * The Swagger UI under /docs is the one page the registry serves: its scripts, styles and
 * document come from this origin. Swagger UI sets styles inline and draws icons from data:
 * URLs, so those two are allowed; inline scripts are not (the UI's init script is a file).
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Sets the security headers on every answer; /docs gets the policy its UI needs. */
export function securityHeaders(docsPrefix = '/docs'): (request: Request, response: Response, next: NextFunction) => void {
  return (request, response, next) => {
    response.set(SECURITY_HEADERS);
    const path = request.path;
    if (path === docsPrefix || path.startsWith(`${docsPrefix}/`) || path.startsWith(`${docsPrefix}-`)) {
      response.set('Content-Security-Policy', DOCS_CONTENT_SECURITY_POLICY);
    }
    next();
  };
}
