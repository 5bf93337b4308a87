import pino from 'pino';
import { eventually } from '../test/support/eventually';
import { heartbeatDelay, HeartbeatLoop, InventoryTracker, ReportedEntry } from './heartbeat';

describe('heartbeatDelay', () => {
  it.each([
    [0, 0.5, 1000],
    [1, 0.5, 2000],
    [2, 0.5, 4000],
    [3, 0.5, 8000],
    [10, 0.5, 30_000],
    [1, 0, 1600],
    [1, 0.999, 2399],
    [100, 0.5, 30_000],
  ])('after %i failures (random %f) waits %i ms', (failures, random, expected) => {
    expect(heartbeatDelay(failures, 1000, 30_000, random)).toBe(expected);
  });
});

describe('HeartbeatLoop', () => {
  it('beats every interval, backs off while failing and comes back', async () => {
    const times: number[] = [];
    let fail = true;
    const loop = new HeartbeatLoop(
      async () => {
        times.push(Date.now());
        if (fail && times.length <= 3) throw new Error('down');
      },
      20,
      1000,
      pino({ level: 'silent' }),
    );
    loop.start();
    await eventually(() => times.length >= 4, 'three failed beats and a good one');
    fail = false;
    await loop.stop();
    const gaps = times.slice(1).map((time, i) => time - times[i]);
    expect(gaps[0]).toBeGreaterThanOrEqual(30);
    expect(gaps[1]).toBeGreaterThan(gaps[0]);
    expect(gaps[2]).toBeGreaterThan(gaps[1]);
    expect(loop.failures).toBe(0);
  });

  it('sends the next heartbeat at once when kicked', async () => {
    let beats = 0;
    const loop = new HeartbeatLoop(async () => void beats++, 60_000, 60_000, pino({ level: 'silent' }));
    loop.start();
    await eventually(() => beats === 1, 'the first beat', 5_000, 5);
    loop.kick();
    // Far sooner than the 60 s interval: only the kick can send it.
    await eventually(() => beats === 2, 'the kicked beat', 5_000, 5);
    await loop.stop();
    expect(beats).toBe(2);
  });
});

describe('InventoryTracker', () => {
  const entry = (version: number, state: ReportedEntry['state'] = 'ready', bytesDone = 10): ReportedEntry => ({ project: 'p', model: 'm', version, state, bytesDone, bytesTotal: 10 });

  it('sends the whole inventory until one is acknowledged, then only what changed', () => {
    const tracker = new InventoryTracker();
    const first = tracker.prepare([entry(1), entry(2, 'pulling', 3)]);
    expect(first.report).toEqual({ sequence: 1, entries: [entry(1), entry(2, 'pulling', 3)] });
    expect(tracker.settle(first, { sequence: 1, resync: false })).toBe(false);
    const second = tracker.prepare([entry(2, 'pulling', 7), entry(3)]);
    expect(second.report).toEqual({ sequence: 2, delta: { since: 1, upserts: [entry(2, 'pulling', 7), entry(3)], removals: [{ project: 'p', model: 'm', version: 1 }] } });
    tracker.settle(second, { sequence: 2, resync: false });
    expect(tracker.prepare([entry(2, 'pulling', 7), entry(3)]).report).toEqual({ sequence: 3, delta: { since: 2, upserts: [], removals: [] } });
  });

  it('keeps the acknowledged base when a reply is lost, and sends everything after a resync', () => {
    const tracker = new InventoryTracker();
    tracker.settle(tracker.prepare([entry(1)]), { sequence: 1, resync: false });
    tracker.prepare([entry(1), entry(2)]); // its reply never came
    const next = tracker.prepare([entry(2)]);
    expect(next.report).toEqual({ sequence: 3, delta: { since: 1, upserts: [entry(2)], removals: [{ project: 'p', model: 'm', version: 1 }] } });
    expect(tracker.settle(next, { sequence: 2, resync: true })).toBe(true);
    expect(tracker.prepare([entry(2)]).report).toEqual({ sequence: 4, entries: [entry(2)] });
  });

  it('keeps sending the whole inventory to a registry that acknowledges no sequence', () => {
    const tracker = new InventoryTracker();
    expect(tracker.settle(tracker.prepare([entry(1)]), {})).toBe(false);
    expect(tracker.prepare([entry(1)]).report).toEqual({ sequence: 2, entries: [entry(1)] });
  });
});
