import { StoreHealth } from './store-health';

describe('StoreHealth', () => {
  let now: number;
  let probes: number;
  let answer: () => Promise<void>;
  let health: StoreHealth;
  beforeEach(() => {
    now = 1_000;
    probes = 0;
    answer = () => Promise.resolve();
    health = new StoreHealth(
      () => {
        probes++;
        return answer();
      },
      () => now,
      2_000,
      50,
    );
  });

  it('asks the store at most once per interval however often readiness is asked', async () => {
    await Promise.all([health.ready(), health.ready(), health.ready()]);
    now += 1_999;
    expect(await health.ready()).toBe(true);
    expect(probes).toBe(1);
    now += 1;
    expect(await health.ready()).toBe(true);
    expect(probes).toBe(2);
  });

  it('is not ready at once when a request met an outage after the last probe, and ready again once a probe succeeds', async () => {
    expect(await health.ready()).toBe(true);
    now += 10;
    health.failed();
    expect(await health.ready()).toBe(false);
    expect(probes).toBe(1);
    now += 2_000;
    expect(await health.ready()).toBe(true);
    expect(probes).toBe(2);
  });

  it('counts a probe that fails or hangs as not ready', async () => {
    answer = () => Promise.reject(new Error('ECONNREFUSED'));
    expect(await health.ready()).toBe(false);
    now += 2_000;
    answer = () => new Promise(() => undefined);
    expect(await health.ready()).toBe(false);
  });
});
