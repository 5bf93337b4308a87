import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '../support/eventually';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  status: number;
}

/**
 * A local webhook subscriber on 127.0.0.1. Each path answers from its script of statuses
 * (the last one repeats; 200 when none) after an optional delay.
 */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly scripts = new Map<string, number[]>();
  private readonly delays = new Map<string, number>();
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '/';
        const script = this.scripts.get(path) ?? [];
        const status = script.length > 1 ? script.shift()! : (script[0] ?? 200);
        const answer = () => {
          this.requests.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now(), status });
          response.writeHead(status).end();
        };
        const delay = this.delays.get(path);
        if (delay) setTimeout(answer, delay);
        else answer();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  script(path: string, statuses: number[]): void {
    this.scripts.set(path, [...statuses]);
  }

  delay(path: string, ms: number): void {
    this.delays.set(path, ms);
  }

  at(path: string): ReceivedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  /** Waits until `count` requests reached `path`, or fails after `timeoutMs`. */
  async waitFor(path: string, count: number, timeoutMs = 10_000): Promise<ReceivedRequest[]> {
    await eventually(() => this.at(path).length >= count, `${count} requests to ${path}`, { timeoutMs, everyMs: 25, explain: () => `${path} received ${this.at(path).length}` });
    return this.at(path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
