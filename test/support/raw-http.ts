import { Agent, request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

export interface RawRequest {
  method: string;
  /** Sent as is: percent-encoding, `..` and all (node:http refuses only raw control characters). */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

/**
 * One HTTP request exactly as given, for inputs supertest would rewrite (it normalises paths,
 * sets Content-Type for buffers and handles Content-Encoding itself).
 */
export function rawRequest(baseUrl: string, options: RawRequest, agent?: Agent): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const headers: Record<string, string | number> = { ...options.headers };
  if (options.body && !Object.keys(headers).some((name) => name.toLowerCase() === 'transfer-encoding')) headers['Content-Length'] = options.body.length;
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: url.hostname, port: url.port, path: options.path, method: options.method, headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers as Record<string, string>,
          text: Buffer.concat(chunks).toString(),
        }),
      );
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}
