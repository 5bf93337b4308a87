// Small HTTP(S) probes, used to tell when a cluster program is ready (the polling: test/support/eventually).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  /** For a program's self-signed /healthz endpoint on loopback, where only liveness matters. */
  insecure?: boolean;
}

/** GETs URL; a refused or failed connection answers status 0 rather than throwing. */
export function get(url: string, tls: TlsFiles = {}): Promise<{ status: number; body: string }> {
  const https = url.startsWith('https:');
  const options = https
    ? {
        ca: tls.ca ? readFileSync(tls.ca) : undefined,
        cert: tls.cert ? readFileSync(tls.cert) : undefined,
        key: tls.key ? readFileSync(tls.key) : undefined,
        rejectUnauthorized: !tls.insecure,
        timeout: 5_000,
      }
    : { timeout: 5_000 };
  return new Promise((resolve) => {
    const req = (https ? httpsRequest : httpRequest)(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}
