/**
 * The pieces of `bench:fleet`: simulated node agents sending heartbeats at a fixed rate (open
 * loop, so a slow registry shows as latency, not as fewer requests), and CPU time of processes
 * read from /proc/<pid>/stat.
 */
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** User + system CPU of a process so far, in ms; 0 once it is gone. */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!stat) return 0;
  // Fields after the command (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** CPU so far of each process still running (a database connection closed meanwhile is left out). */
export async function cpuOf(pids: readonly number[]): Promise<Map<number, number>> {
  const readings = await Promise.all(pids.map(async (pid) => [pid, await cpuMs(pid)] as [number, number]));
  return new Map(readings.filter(([, ms]) => ms > 0));
}

/**
 * CPU used between two readings: by the processes present in both, plus all of that of those
 * only in the second (database connections the pool opened during the window).
 */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  // A pid in both readings whose CPU went down is a new process under a reused pid.
  for (const [pid, end] of after) total += end >= (before.get(pid) ?? 0) ? end - (before.get(pid) ?? 0) : end;
  return total;
}

export interface SimulatedNode {
  name: string;
  entries: { project: string; model: string; version: number; state: string; bytesDone: number; bytesTotal: number }[];
  labels: Record<string, string>;
  /** The last sequence the registry acknowledged (deltas); 0 sends the whole inventory. */
  sequence: number;
}

export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  skipped: number;
  latenciesMs: number[];
  seconds: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function put(url: URL, token: string, body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'PUT',
        agent,
        timeout: timeoutMs,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * One heartbeat of a node: every heartbeat its pulling entry makes progress, so a delta
 * carries one upsert and a whole inventory carries all 20 entries.
 */
export async function heartbeat(base: string, token: string, node: SimulatedNode, delta: boolean, tick: number): Promise<number> {
  const moving = node.entries[0];
  moving.bytesDone = (moving.bytesDone + 1 + tick) % moving.bytesTotal;
  const inventory =
    delta && node.sequence > 0
      ? { sequence: node.sequence + 1, delta: { since: node.sequence, upserts: [moving], removals: [] } }
      : delta
        ? { sequence: node.sequence + 1, entries: node.entries }
        : { entries: node.entries };
  const body = JSON.stringify({ labels: node.labels, capacityBytes: 1e12, budgetBytes: 5e11, usedBytes: 1e11, agentVersion: 'bench', demands: [], ...inventory });
  const started = process.hrtime.bigint();
  const reply = await put(new URL(`/api/v1/nodes/${node.name}`, base), token, body, 30_000);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (reply.status !== 200) throw new Error(`heartbeat ${node.name}: ${reply.status} ${reply.text.slice(0, 300)}`);
  if (delta) {
    const parsed = JSON.parse(reply.text) as { sequence: number | null; resync: boolean };
    node.sequence = parsed.resync || parsed.sequence === null ? 0 : parsed.sequence;
  }
  return ms;
}

/**
 * Sends `rate` heartbeats a second for `seconds`, cycling through the nodes (so each node
 * beats every nodes/rate seconds), never more than `maxInFlight` at once (the rest count as
 * skipped: the registry could not keep up).
 */
export async function runLoad(base: string, token: string, nodes: SimulatedNode[], options: { rate: number; seconds: number; delta: boolean; maxInFlight: number; offset: number }): Promise<LoadResult> {
  const result: LoadResult = { sent: 0, ok: 0, failed: 0, skipped: 0, latenciesMs: [], seconds: options.seconds };
  const total = Math.round(options.rate * options.seconds);
  const started = Date.now();
  const pending = new Set<Promise<void>>();
  let firstError: string | null = null;
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / options.rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (pending.size >= options.maxInFlight) {
      result.skipped++;
      continue;
    }
    const index = options.offset + i;
    const node = nodes[index % nodes.length];
    result.sent++;
    const call = heartbeat(base, token, node, options.delta, Math.floor(index / nodes.length))
      .then((ms) => {
        result.ok++;
        result.latenciesMs.push(ms);
      })
      .catch((error: Error) => {
        result.failed++;
        firstError ??= error.message;
      })
      .finally(() => pending.delete(call));
    pending.add(call);
  }
  await Promise.all(pending);
  result.seconds = (Date.now() - started) / 1000;
  if (firstError) console.error(`  first failure: ${firstError}`);
  return result;
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
