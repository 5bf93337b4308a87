import { LRUCache } from 'lru-cache';

/**
 * An LRU cache whose entries live under a stamp from InvalidationService. Looking up under a
 * newer stamp misses, so invalidation is O(1) and old entries simply age out. A null stamp
 * (no listener connected) bypasses the cache entirely.
 */
export class StampedCache<V extends object> {
  private readonly lru: LRUCache<string, V> | null;

  constructor(maxEntries: number, ttlSeconds: number) {
    this.lru = maxEntries > 0 ? new LRUCache<string, V>({ max: maxEntries, ttl: ttlSeconds * 1000 }) : null;
  }

  get(stamp: string | null, key: string): V | undefined {
    return this.lru && stamp !== null ? this.lru.get(`${stamp}|${key}`) : undefined;
  }

  set(stamp: string | null, key: string, value: V): void {
    if (this.lru && stamp !== null) this.lru.set(`${stamp}|${key}`, value);
  }

  delete(stamp: string | null, key: string): void {
    if (this.lru && stamp !== null) this.lru.delete(`${stamp}|${key}`);
  }

  /** The stamp must be read before `load` reads the database; see InvalidationService. */
  async getOrLoad(stamp: string | null, key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.get(stamp, key);
    if (hit !== undefined) return hit;
    const value = await load();
    this.set(stamp, key, value);
    return value;
  }
}
