import { createServer, request as httpRequest, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PartRecord {
  upload: string;
  number: number;
  bytes: number;
  status: number;
}

/**
 * An HTTP proxy in front of a registry that counts the bytes of every upload part that passes
 * through it, so a test can see what a client really sent. `delayPartsMs` slows each part down,
 * to interrupt a transfer midway.
 */
export class CountingProxy {
  readonly parts: PartRecord[] = [];
  delayPartsMs = 0;
  url = '';
  private server?: Server;

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    const target = new URL(this.target);
    this.server = createServer((incoming, outgoing) => {
      const match = /^\/api\/v1\/uploads\/([^/]+)\/parts\/(\d+)$/.exec(incoming.url ?? '');
      let bytes = 0;
      const forward = () => {
        const upstream = httpRequest(
          { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
          (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
            answer.on('end', () => {
              if (match) this.parts.push({ upload: match[1], number: Number(match[2]), bytes, status: answer.statusCode ?? 0 });
            });
          },
        );
        upstream.on('error', () => outgoing.destroy());
        incoming.on('data', (chunk: Buffer) => (bytes += chunk.length));
        incoming.on('aborted', () => upstream.destroy());
        incoming.pipe(upstream);
      };
      if (match && this.delayPartsMs > 0) setTimeout(forward, this.delayPartsMs);
      else forward();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Bytes of part requests the registry accepted. */
  acceptedBytes(): number {
    return this.parts.filter((part) => part.status === 200).reduce((sum, part) => sum + part.bytes, 0);
  }

  /** Bytes of every part request, accepted or not. */
  sentBytes(): number {
    return this.parts.reduce((sum, part) => sum + part.bytes, 0);
  }

  reset(): void {
    this.parts.length = 0;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
