import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseReference } from './reference';
import { RegistryClient, RegistryRefusal, RegistryUnavailable } from './registry-client';

/** A stand-in registry over real HTTP: prod points where the test says, each resolve counted. */
function fakeRegistry() {
  const state = { prod: 1, resolves: 0, status: 200 };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url!, 'http://x');
    if (state.status !== 200) {
      response.writeHead(state.status, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ code: state.status === 404 ? 'tag_not_found' : 'internal', detail: 'no tag' }));
      return;
    }
    if (url.pathname.endsWith('/resolve')) {
      state.resolves++;
      const ref = url.searchParams.get('ref')!;
      const number = ref === 'prod' ? state.prod : Number(ref.slice(1));
      response.end(JSON.stringify({ number, manifestDigest: `sha256:${number}` }));
    } else response.end(JSON.stringify({ items: [{ size: 3 }, { size: 4 }] }));
  });
  return { state, server, start: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))) };
}

describe('RegistryClient', () => {
  const registry = fakeRegistry();
  let url: string;
  beforeAll(async () => (url = await registry.start()));
  afterAll(() => registry.server.close());
  beforeEach(() => Object.assign(registry.state, { prod: 1, resolves: 0, status: 200 }));

  it('resolves a tag once per TTL, and again at once after an event about its model', async () => {
    const client = new RegistryClient(url, 't', 1_000, 60_000);
    const ref = parseReference('p/m:prod');
    expect(await client.resolve(ref)).toEqual({ project: 'p', model: 'm', number: 1, digest: 'sha256:1', bytes: 7, tag: undefined });
    await client.resolve(ref);
    expect(registry.state.resolves).toBe(1);
    registry.state.prod = 2;
    client.invalidate('p', 'other'); // another model's event changes nothing
    expect((await client.resolve(ref)).number).toBe(1);
    client.invalidate('p', 'm');
    expect((await client.resolve(ref)).number).toBe(2);
    expect(registry.state.resolves).toBe(2);
  });

  it('asks again once the tag TTL passed', async () => {
    const client = new RegistryClient(url, 't', 1_000, 0);
    await client.resolve(parseReference('p/m:prod'));
    await client.resolve(parseReference('p/m:prod'));
    expect(registry.state.resolves).toBe(2);
  });

  it.each<[number, unknown]>([
    [404, RegistryRefusal],
    [503, RegistryUnavailable],
  ])('turns a %i into %p', async (status, type) => {
    registry.state.status = status;
    const error = await new RegistryClient(url, 't').resolve(parseReference('p/m:prod')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type as never);
    if (status === 404) expect((error as RegistryRefusal).reason).toBe('TagNotFound');
  });

  it('says the registry is unreachable when nothing listens', async () => {
    const error = await new RegistryClient('http://127.0.0.1:1', 't').resolve(parseReference('p/m@1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryUnavailable);
  });
});
