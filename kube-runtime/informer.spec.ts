import type { KubernetesObject } from '@kubernetes/client-node';
import { Informer, objectKey, splitKey, type WatchEventType } from './informer';

const obj = (name: string, rv: string, namespace = 'ns'): KubernetesObject => ({ metadata: { name, namespace, resourceVersion: rv } });

/** A fake apiserver collection: lists and watches the test drives by hand. */
function fakeServer(initial: KubernetesObject[], listRv = '10') {
  let items = initial;
  let rv = listRv;
  const watches: { from: string; emit: (type: WatchEventType, object: KubernetesObject) => void; end: (error?: unknown) => void }[] = [];
  let failNextWatch: unknown;
  const server = {
    lists: 0,
    watches,
    set(next: KubernetesObject[], nextRv: string) {
      items = next;
      rv = nextRv;
    },
    failNextWatch(error: unknown) {
      failNextWatch = error;
    },
    list: async () => {
      server.lists++;
      return { items, metadata: { resourceVersion: rv } };
    },
    watch: async (from: string, onEvent: (type: WatchEventType, object: KubernetesObject) => void, onDone: (error?: unknown) => void) => {
      if (failNextWatch) {
        const error = failNextWatch;
        failNextWatch = undefined;
        throw error;
      }
      watches.push({ from, emit: onEvent, end: onDone });
      return { abort: () => undefined };
    },
  };
  return server;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function recorded(informer: Informer<KubernetesObject>) {
  const events: string[] = [];
  informer.on({
    add: (o) => events.push(`add ${objectKey(o)}`),
    update: (o) => events.push(`update ${objectKey(o)}`),
    delete: (o) => events.push(`delete ${objectKey(o)}`),
  });
  return events;
}

describe('Informer', () => {
  it('lists, then watches from the list resourceVersion, keeping its cache current', async () => {
    const server = fakeServer([obj('a', '5')]);
    const informer = new Informer({ list: server.list, watch: server.watch });
    const events = recorded(informer);
    await informer.start();
    expect(server.watches[0].from).toBe('10');
    server.watches[0].emit('ADDED', obj('b', '11'));
    server.watches[0].emit('MODIFIED', obj('a', '12'));
    server.watches[0].emit('DELETED', obj('b', '13'));
    expect(events).toEqual(['add ns/a', 'add ns/b', 'update ns/a', 'delete ns/b']);
    expect(informer.list().map(objectKey)).toEqual(['ns/a']);
    informer.stop();
  });

  it.each<[string, unknown, number, string]>([
    ['ended by the server (timeout)', undefined, 1, '12'],
    ['ended by a network error', new Error('ECONNRESET'), 1, '12'],
    ['ended with 410 Gone', Object.assign(new Error('too old resource version'), { code: 410 }), 2, '20'],
  ])('a watch %s restarts (lists: %i) from resourceVersion %s', async (_what, error, lists, from) => {
    const server = fakeServer([obj('a', '5')]);
    const informer = new Informer({ list: server.list, watch: server.watch, restartDelayMs: 1 });
    await informer.start();
    server.watches[0].emit('BOOKMARK', obj('', '12'));
    server.set([obj('a', '5')], '20');
    server.watches[0].end(error);
    await until(() => server.watches.length === 2, 'the second watch');
    expect(server.lists).toBe(lists);
    expect(server.watches[1].from).toBe(from);
    informer.stop();
  });

  it('relists on a 410 ERROR event and reports what changed meanwhile, deletions included', async () => {
    const server = fakeServer([obj('a', '5'), obj('b', '6')]);
    const informer = new Informer({ list: server.list, watch: server.watch });
    const events = recorded(informer);
    await informer.start();
    server.set([obj('a', '15'), obj('c', '16')], '30');
    server.watches[0].emit('ERROR', { kind: 'Status', code: 410, metadata: {} } as KubernetesObject);
    await until(() => server.watches.length === 2, 'the watch after the relist');
    expect(events.slice(2)).toEqual(['update ns/a', 'add ns/c', 'delete ns/b']);
    expect(server.watches[1].from).toBe('30');
    informer.stop();
  });

  it('retries a watch that cannot start, with growing delays, until it can', async () => {
    const server = fakeServer([]);
    const errors: string[] = [];
    const informer = new Informer({ list: server.list, watch: server.watch, restartDelayMs: 1, onError: (e) => errors.push(String(e)) });
    server.failNextWatch(new Error('connection refused'));
    await informer.start();
    await until(() => server.watches.length === 1, 'the watch after the failure');
    expect(errors).toEqual(['Error: connection refused']);
    informer.stop();
  });

  it('retries the first list until the apiserver answers', async () => {
    const server = fakeServer([obj('a', '5')]);
    let failures = 2;
    const list = async () => {
      if (failures-- > 0) throw Object.assign(new Error('storage is (re)initializing'), { code: 429 });
      return server.list();
    };
    const errors: string[] = [];
    const informer = new Informer({ list, watch: server.watch, restartDelayMs: 1, onError: (_e, what) => errors.push(what) });
    await informer.start();
    expect(informer.list().map(objectKey)).toEqual(['ns/a']);
    expect(errors).toEqual(['initial list failed; retrying', 'initial list failed; retrying']);
    informer.stop();
  });

  it('replays every cached object as an update on resync', async () => {
    const server = fakeServer([obj('a', '5'), obj('b', '6')]);
    const informer = new Informer({ list: server.list, watch: server.watch, resyncMs: 20 });
    const events = recorded(informer);
    await informer.start();
    await until(() => events.filter((e) => e.startsWith('update')).length >= 2, 'a resync');
    expect(events).toEqual(expect.arrayContaining(['update ns/a', 'update ns/b']));
    informer.stop();
  });
});

describe('keys', () => {
  it.each([
    [obj('a', '1', 'ns'), 'ns/a'],
    [{ metadata: { name: 'node-1' } }, 'node-1'],
  ])('objectKey(%j) is %s and splits back', (object, key) => {
    expect(objectKey(object)).toBe(key);
    expect(splitKey(key).name).toBe(object.metadata!.name);
    expect(splitKey(key).namespace).toBe(object.metadata!.namespace);
  });
});
