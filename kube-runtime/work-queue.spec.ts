import { TerminalError } from './errors';
import { WorkQueue, type Outcome } from './work-queue';

/** A reconcile whose runs the test releases one by one, recording what ran and when. */
function gatedReconcile() {
  const started: string[] = [];
  const gates = new Map<string, (() => void)[]>();
  let running = 0;
  let maxRunning = 0;
  const perKeyRunning = new Map<string, number>();
  let overlapped = false;
  const reconcile = async (key: string) => {
    started.push(key);
    running++;
    maxRunning = Math.max(maxRunning, running);
    perKeyRunning.set(key, (perKeyRunning.get(key) ?? 0) + 1);
    if (perKeyRunning.get(key)! > 1) overlapped = true;
    await new Promise<void>((resolve) => gates.set(key, [...(gates.get(key) ?? []), resolve]));
    running--;
    perKeyRunning.set(key, perKeyRunning.get(key)! - 1);
  };
  const release = (key: string) => gates.get(key)?.shift()?.();
  return { reconcile, started, release, stats: () => ({ maxRunning, overlapped }) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('WorkQueue', () => {
  it('runs a key added many times while it waits only once', async () => {
    const queue = new WorkQueue();
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) queue.add('ns/a');
    queue.add('ns/b');
    expect(queue.depth).toBe(2);
    queue.start(async (key) => void seen.push(key));
    await queue.idle();
    expect(seen).toEqual(['ns/a', 'ns/b']);
  });

  it('never runs one key twice at once: added while running, it runs again after', async () => {
    const queue = new WorkQueue({ concurrency: 4 });
    const gated = gatedReconcile();
    queue.start(gated.reconcile);
    queue.add('a');
    await tick();
    queue.add('a');
    queue.add('a');
    await tick();
    expect(gated.started).toEqual(['a']);
    gated.release('a');
    await until(() => gated.started.length === 2, 'the second run of a');
    gated.release('a');
    await queue.idle();
    expect(gated.started).toEqual(['a', 'a']);
    expect(gated.stats().overlapped).toBe(false);
  });

  it.each([1, 3])('runs at most %i reconciles at once', async (concurrency) => {
    const queue = new WorkQueue({ concurrency });
    const gated = gatedReconcile();
    queue.start(gated.reconcile);
    const keys = ['a', 'b', 'c', 'd', 'e'];
    keys.forEach((key) => queue.add(key));
    await tick();
    expect(queue.active).toBe(concurrency);
    for (const key of keys) {
      await until(() => gated.started.includes(key), `${key} to start`);
      gated.release(key);
    }
    await queue.idle();
    expect(gated.stats().maxRunning).toBe(concurrency);
  });

  it.each<[string, Outcome, number, () => Promise<unknown>]>([
    ['success', 'success', 1, async () => undefined],
    ['a TerminalError', 'terminal', 1, async () => { throw new TerminalError('bad spec', 'InvalidSpec'); }],
    ['a thrown error', 'error', 3, async () => { throw new Error('registry down'); }],
  ])('after %s: outcome %s, %i run(s) within the window', async (_name, outcome, runs, behaviour) => {
    const outcomes: Outcome[] = [];
    const queue = new WorkQueue({ onResult: (event) => outcomes.push(event.outcome) });
    let count = 0;
    queue.start(async () => {
      count++;
      // Errors stop after the third run, so the test ends on a success that forgets the key.
      if (outcome === 'error' && count >= 3) return;
      await behaviour();
    });
    queue.add('k');
    if (outcome === 'error') await until(() => count === 3, 'two retries (5 ms, 10 ms)');
    await queue.idle();
    // A later event shows nothing else was pending: an add now runs exactly once more.
    queue.add('k');
    await until(() => count === runs + 1, 'the next run');
    await queue.idle();
    expect(outcomes[0]).toBe(outcome);
    expect(queue.retries('k')).toBe(0);
    await queue.shutdown();
  });

  it('backs a failing key off exponentially', async () => {
    const times: number[] = [];
    const queue = new WorkQueue({ baseMs: 20 });
    queue.start(async () => {
      times.push(Date.now());
      if (times.length < 4) throw new Error('still failing');
    });
    queue.add('k');
    await until(() => times.length === 4, 'three retries', 10_000);
    const gaps = times.slice(1).map((time, i) => time - times[i]);
    expect(gaps[0]).toBeGreaterThanOrEqual(19);
    expect(gaps[1]).toBeGreaterThanOrEqual(39);
    expect(gaps[2]).toBeGreaterThanOrEqual(79);
    await queue.shutdown();
  });

  it('brings a key back after requeueAfterMs, the earliest of two delays winning', async () => {
    const queue = new WorkQueue();
    const times: number[] = [];
    queue.start(async () => {
      times.push(Date.now());
      return times.length === 1 ? { requeueAfterMs: 50 } : undefined;
    });
    queue.addAfter('k', 60_000);
    queue.add('k');
    await until(() => times.length === 2, 'the requeue');
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(49);
    await queue.shutdown(); // the 60 s timer is dropped, or jest would wait for it
  });

  it('stops taking keys on shutdown and waits for the running reconcile', async () => {
    const queue = new WorkQueue();
    const gated = gatedReconcile();
    queue.start(gated.reconcile);
    queue.add('a');
    queue.add('b');
    await tick();
    const stopped = queue.shutdown();
    let done = false;
    void stopped.then(() => (done = true));
    await tick();
    expect(done).toBe(false);
    gated.release('a');
    await stopped;
    queue.add('c');
    await tick();
    expect(gated.started).toEqual(['a']);
  });
});
