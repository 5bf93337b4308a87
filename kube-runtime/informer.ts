import type { KubernetesObject } from '@kubernetes/client-node';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ListResult<T> {
  items: T[];
  metadata?: { resourceVersion?: string };
}

/** A running watch: events arrive through onEvent until onDone (with the error that ended it, if any). */
export type WatchFn<T> = (
  resourceVersion: string,
  onEvent: (type: WatchEventType, object: T) => void,
  onDone: (error?: unknown) => void,
) => Promise<{ abort(): void }>;

export interface InformerHandlers<T> {
  /** An object appeared (also for every object of a relist that was not known). */
  add?(object: T): void;
  /** An object changed, or the periodic resync replays it. */
  update?(object: T, previous: T | undefined): void;
  delete?(object: T): void;
}

export interface InformerOptions<T> {
  list: () => Promise<ListResult<T>>;
  watch: WatchFn<T>;
  /** Replays every cached object as an update this often (0: never): level-triggered safety net. */
  resyncMs?: number;
  /** Wait before restarting a watch that ended with an error (doubles up to maxRestartDelayMs). */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  onError?: (error: unknown, what: string) => void;
}

/** `namespace/name`, or `name` for cluster-scoped objects: the key the work queue holds. */
export function objectKey(object: KubernetesObject): string {
  const { namespace, name } = object.metadata ?? {};
  return namespace ? `${namespace}/${name}` : `${name}`;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** 410 Gone (resourceVersion too old): the watch cannot resume, only a fresh list can. */
export function isGone(error: unknown): boolean {
  const e = error as { code?: number; statusCode?: number; status?: number } | undefined;
  return e?.code === 410 || e?.statusCode === 410 || e?.status === 410 || /\b410\b|too old resource version|Expired/i.test(String((error as Error)?.message ?? ''));
}

/**
 * A shared informer: lists, then watches from the list's resourceVersion, keeping a cache keyed
 * by namespace/name. A watch that ends (the apiserver closes watches after a timeout; a network
 * error) restarts from the last resourceVersion seen, with backoff; a 410 Gone relists, and the
 * relist tells the handlers what changed while no watch ran (deletions included).
 */
export class Informer<T extends KubernetesObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private resourceVersion = '';
  private current?: { abort(): void };
  private resyncTimer?: NodeJS.Timeout;
  private restartTimer?: NodeJS.Timeout;
  private restartDelay: number;
  private stopped = false;
  private generation = 0;

  constructor(private readonly options: InformerOptions<T>) {
    this.restartDelay = options.restartDelayMs ?? 200;
  }

  on(handlers: InformerHandlers<T>): this {
    this.handlers.push(handlers);
    return this;
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** Resolves after the first list is in the cache and the watch runs (HasSynced). */
  async start(): Promise<void> {
    // The first list is retried too: a CRD just established answers 'storage is (re)initializing'
    // for a moment, and an apiserver restarting refuses connections.
    for (let delay = this.restartDelay; ; delay = Math.min(delay * 2, this.options.maxRestartDelayMs ?? 10_000)) {
      try {
        await this.relist();
        break;
      } catch (error) {
        if (this.stopped) throw error;
        this.options.onError?.(error, 'initial list failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    const resyncMs = this.options.resyncMs ?? 0;
    if (resyncMs > 0) {
      this.resyncTimer = setInterval(() => this.resync(), resyncMs);
      this.resyncTimer.unref?.();
    }
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    clearInterval(this.resyncTimer);
    clearTimeout(this.restartTimer);
    this.current?.abort();
  }

  private resync(): void {
    for (const object of this.cache.values()) this.emit('update', object, object);
  }

  private async relist(): Promise<void> {
    const listed = await this.options.list();
    const seen = new Set<string>();
    for (const object of listed.items) {
      const key = objectKey(object);
      seen.add(key);
      this.store(object);
    }
    for (const [key, object] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.emit('delete', object);
    }
    this.resourceVersion = listed.metadata?.resourceVersion ?? '';
    await this.watch();
  }

  private store(object: T): void {
    const key = objectKey(object);
    const previous = this.cache.get(key);
    this.cache.set(key, object);
    if (!previous) this.emit('add', object);
    else if (previous.metadata?.resourceVersion !== object.metadata?.resourceVersion) this.emit('update', object, previous);
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    const ended = (error?: unknown) => {
      if (generation !== this.generation || this.stopped) return;
      this.generation++;
      this.current?.abort();
      this.scheduleRestart(error);
    };
    try {
      this.current = await this.options.watch(this.resourceVersion, (type, object) => {
        if (generation !== this.generation) return;
        this.onEvent(type, object, ended);
      }, ended);
      this.restartDelay = this.options.restartDelayMs ?? 200;
    } catch (error) {
      ended(error);
    }
  }

  private onEvent(type: WatchEventType, object: T, ended: (error?: unknown) => void): void {
    const version = object?.metadata?.resourceVersion;
    if (type === 'ERROR') return ended(Object.assign(new Error(`watch error: ${JSON.stringify(object)}`), { code: (object as { code?: number }).code }));
    if (version) this.resourceVersion = version;
    if (type === 'BOOKMARK') return;
    if (type === 'DELETED') {
      const key = objectKey(object);
      this.cache.delete(key);
      this.emit('delete', object);
      return;
    }
    this.store(object);
  }

  private scheduleRestart(error?: unknown): void {
    const gone = error !== undefined && isGone(error);
    if (error !== undefined && !gone) this.options.onError?.(error, 'watch ended');
    // A watch that simply ended (server timeout) resumes at once; an error waits, growing.
    const delay = error === undefined || gone ? 0 : this.restartDelay;
    if (error !== undefined && !gone) this.restartDelay = Math.min(this.restartDelay * 2, this.options.maxRestartDelayMs ?? 10_000);
    this.restartTimer = setTimeout(() => {
      const next = gone ? this.relist() : this.watch();
      next.catch((failure) => {
        this.options.onError?.(failure, gone ? 'relist failed' : 'watch restart failed');
        if (!this.stopped) this.scheduleRestart(isGone(failure) ? failure : failure ?? new Error('restart failed'));
      });
    }, delay);
    this.restartTimer.unref?.();
  }

  private emit(kind: 'add' | 'delete', object: T): void;
  private emit(kind: 'update', object: T, previous: T | undefined): void;
  private emit(kind: 'add' | 'update' | 'delete', object: T, previous?: T): void {
    for (const handler of this.handlers) {
      if (kind === 'update') handler.update?.(object, previous);
      else handler[kind]?.(object);
    }
  }
}
