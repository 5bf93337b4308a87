import { Bench, conclude, envNumber, exploring, median } from './bench';

const lastLine = (text: string) => JSON.parse(text.trimEnd().split('\n').pop()!);

describe('bench harness', () => {
  it.each([
    [[5], 5],
    [[3, 1, 2], 2],
    [[10, 1, 7, 3], 5],
    [[2, 2, 9], 2],
  ])('takes the median of %j as %p', (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  it('refuses the median of nothing', () => {
    expect(() => median([])).toThrow('median of no values');
  });

  it('measures each sample the configured number of times and keeps the median', async () => {
    const bench = new Bench('demo', 3, false);
    const seen: number[] = [];
    const value = await bench.median('wharf', async (run) => (seen.push(run), [30, 10, 20][run - 1]), { unit: 'ms' });
    expect(seen).toEqual([1, 2, 3]);
    expect(value).toBe(20);
    expect(bench.report().measures.wharf).toEqual({ value: 20, runs: [30, 10, 20], unit: 'ms' });
  });

  it('interleaves the samples of several measures round by round', async () => {
    const bench = new Bench('demo', 2, false);
    const order: string[] = [];
    const medians = await bench.interleaved({
      wharf: { sample: async (run) => (order.push(`wharf${run}`), run) },
      curl: { sample: async (run) => (order.push(`curl${run}`), run * 10), baseline: true },
    });
    expect(order).toEqual(['wharf1', 'curl1', 'wharf2', 'curl2']);
    expect(medians).toEqual({ wharf: 1.5, curl: 15 });
    expect(Object.keys(bench.report().baselines)).toEqual(['curl']);
  });

  it('ends with one JSON line and exit code 0 when every target is met', () => {
    const bench = new Bench('demo', 1, false);
    bench.record('wharf MiB/s', 90);
    bench.record('cp MiB/s', 100, { baseline: true });
    bench.ratio('wharf / cp', 90, 100, { atLeast: 0.6 });
    bench.target('peak RSS MiB', 250, { atMost: 300 });
    const { text, exitCode } = conclude(bench);
    expect(exitCode).toBe(0);
    const report = lastLine(text);
    expect(report).toMatchObject({
      bench: 'demo',
      measures: { 'wharf MiB/s': { value: 90 } },
      baselines: { 'cp MiB/s': { value: 100 } },
      ratios: { 'wharf / cp': 0.9 },
      targets: { 'wharf / cp': { value: 0.9, atLeast: 0.6, met: true }, 'peak RSS MiB': { value: 250, atMost: 300, met: true } },
      met: true,
    });
    expect(text).toContain('every target met');
  });

  it('exits 1 when a target is missed, and 0 with --explore, naming the miss either way', () => {
    for (const explore of [false, true]) {
      const bench = new Bench('demo', 1, explore);
      bench.ratio('wharf / curl', 0.5, 1, { atLeast: 0.9 });
      bench.target('p99 ms', 4, { atMost: 5 });
      const { text, exitCode } = conclude(bench);
      expect(exitCode).toBe(explore ? 0 : 1);
      expect(text).toMatch(/1 target\(s\) MISSED: wharf \/ curl/);
      expect(lastLine(text)).toMatchObject({ met: false, explore, targets: { 'wharf / curl': { met: false }, 'p99 ms': { met: true } } });
    }
  });

  it('counts a ratio that is not a number (a zero baseline) as missed', () => {
    const bench = new Bench('demo', 1, false);
    bench.ratio('x / y', 0, 0, { atLeast: 0.5 });
    expect(conclude(bench).exitCode).toBe(1);
  });

  it('reads --explore and BENCH_EXPLORE, and refuses a bad number knob by name', () => {
    expect(exploring(['node', 'bench.ts', '--explore'], {})).toBe(true);
    expect(exploring(['node', 'bench.ts'], { BENCH_EXPLORE: '1' })).toBe(true);
    expect(exploring(['node', 'bench.ts'], {})).toBe(false);
    expect(envNumber('BENCH_RUNS', 3, {})).toBe(3);
    expect(envNumber('BENCH_RUNS', 3, { BENCH_RUNS: '5' })).toBe(5);
    expect(() => envNumber('BENCH_RUNS', 3, { BENCH_RUNS: 'many' })).toThrow('BENCH_RUNS="many": must be a non-negative number');
  });
});
