import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { VersionRef, versionKeyOf } from './store';

export interface Lease extends VersionRef {
  id: string;
  holder: string;
  expiresAt: number;
}

/**
 * Leases: a pod holds a version while it serves from it, so it is never evicted. Kept in
 * leases.json (temp file + rename), so they survive an agent restart; expired leases are
 * dropped, which protects a node from pods that die without releasing.
 */
export class LeaseBook {
  private readonly leases = new Map<string, Lease>();
  private readonly file: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(dir: string) {
    this.file = path.join(dir, 'leases.json');
  }

  async load(now = Date.now()): Promise<void> {
    const text = await fs.readFile(this.file, 'utf8').catch(() => '[]');
    try {
      for (const lease of JSON.parse(text) as Lease[]) if (lease.expiresAt > now) this.leases.set(lease.id, lease);
    } catch {
      // A torn file cannot happen (rename is atomic); anything unreadable is ignored.
    }
  }

  async acquire(ref: VersionRef, holder: string, ttlMs: number, now = Date.now()): Promise<Lease> {
    const lease: Lease = { id: randomUUID(), project: ref.project, model: ref.model, version: ref.version, holder, expiresAt: now + ttlMs };
    this.leases.set(lease.id, lease);
    await this.save();
    return lease;
  }

  async renew(id: string, ttlMs: number, now = Date.now()): Promise<Lease | undefined> {
    const lease = this.get(id, now);
    if (!lease) return undefined;
    lease.expiresAt = now + ttlMs;
    await this.save();
    return lease;
  }

  async release(id: string): Promise<boolean> {
    const existed = this.leases.delete(id);
    if (existed) await this.save();
    return existed;
  }

  get(id: string, now = Date.now()): Lease | undefined {
    const lease = this.leases.get(id);
    return lease && lease.expiresAt > now ? lease : undefined;
  }

  list(now = Date.now()): Lease[] {
    for (const [id, lease] of this.leases) if (lease.expiresAt <= now) this.leases.delete(id);
    return [...this.leases.values()];
  }

  /** Version keys held by a live lease. */
  heldKeys(now = Date.now()): string[] {
    return [...new Set(this.list(now).map(versionKeyOf))];
  }

  private save(): Promise<void> {
    const snapshot = JSON.stringify([...this.leases.values()]);
    this.writing = this.writing.then(async () => {
      await fs.writeFile(`${this.file}.tmp`, snapshot);
      await fs.rename(`${this.file}.tmp`, this.file);
    });
    return this.writing;
  }
}
