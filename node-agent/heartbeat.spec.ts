import pino from 'pino';
import { eventually } from '../test/support/eventually';
import { heartbeatDelay, HeartbeatLoop } from './heartbeat';

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
