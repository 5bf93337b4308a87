/**
 * The one harness every `npm run bench:<name>` script uses, so that each ends the same way: Wharf
 * and the alternative a user would pick instead measured alike (medians of several runs), printed
 * side by side as a ratio, then ONE JSON line a machine can read, and an exit code that says
 * whether every target was met.
 *
 * Usage (a whole bench):
 *
 *   import { runBench } from './harness/bench';
 *
 *   runBench('resolve', async (bench) => {
 *     // Each sample is one run; `median` runs it `bench.runs` times (BENCH_RUNS, default 3).
 *     const wharf = await bench.median('resolve req/s', () => loadResolve());
 *     const hello = await bench.median('hello-world req/s', () => loadHello(), { baseline: true });
 *     // Interleaved runs (A, B, A, B …) when the machine drifts: bench.interleaved({...}).
 *     bench.ratio('resolve / hello-world', wharf, hello, { atLeast: 0.5 });
 *     bench.target('p99 at half of peak (ms)', p99, { atMost: 5 });
 *     bench.note('load average during the run: …');          // free text, printed in the table
 *   });
 *
 * What it prints, after the bench's own progress lines:
 *   - a table: every measure and baseline (median, then the runs), every ratio and target with
 *     "met" / "MISSED", and the load average before and after (figures under load are inflated);
 *   - the last line of stdout, one JSON object:
 *     {"bench":"resolve","measures":{…},"baselines":{…},"ratios":{…},"targets":{"name":{"value":…,
 *      "atLeast"|"atMost":…,"met":true}},"met":true,"explore":false,"runs":3,"load":{…}}
 *
 * Exit code: 0 when every target is met; 1 when one is missed (unless `--explore` is given on the
 * command line or BENCH_EXPLORE=1 is set: then the misses are printed, and the exit code is 0);
 * 2 when the bench itself failed (a thrown error: no JSON line then, the error on stderr).
 */
import { loadavg } from 'node:os';

export type Bound = { atLeast: number; atMost?: never } | { atMost: number; atLeast?: never };

export interface Measure {
  /** The figure compared: the median of `runs` (or the only run). */
  value: number;
  runs: number[];
  unit?: string;
}

export interface TargetResult {
  value: number;
  atLeast?: number;
  atMost?: number;
  met: boolean;
}

export interface BenchReport {
  bench: string;
  measures: Record<string, Measure>;
  baselines: Record<string, Measure>;
  ratios: Record<string, number>;
  targets: Record<string, TargetResult>;
  met: boolean;
  explore: boolean;
  runs: number;
  load: { before: number[]; after: number[] };
  notes: string[];
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function meets(value: number, bound: Bound): boolean {
  return bound.atLeast !== undefined ? value >= bound.atLeast : value <= bound.atMost!;
}

const round = (value: number) => (Number.isInteger(value) ? value : Number(value.toPrecision(4)));
const loadNow = () => loadavg().map((value) => Number(value.toFixed(2)));

export interface MeasureOptions {
  unit?: string;
  /** A figure of the alternative a user would pick instead (reported under `baselines`). */
  baseline?: boolean;
  /** Runs for this measure only (default: the bench's `runs`). */
  runs?: number;
}

export class Bench {
  readonly measures: Record<string, Measure> = {};
  readonly baselines: Record<string, Measure> = {};
  readonly ratios: Record<string, number> = {};
  readonly targets: Record<string, TargetResult> = {};
  readonly notes: string[] = [];
  readonly loadBefore = loadNow();

  constructor(
    readonly name: string,
    /** How many times `median` runs a sample: BENCH_RUNS, default 3. */
    readonly runs: number,
    readonly explore: boolean,
  ) {}

  /** Records a figure measured elsewhere (already a median, or a single run). */
  record(name: string, runs: number | number[], options: MeasureOptions = {}): number {
    const values = Array.isArray(runs) ? runs : [runs];
    const measure: Measure = { value: median(values), runs: values, ...(options.unit ? { unit: options.unit } : {}) };
    (options.baseline ? this.baselines : this.measures)[name] = measure;
    return measure.value;
  }

  /** Runs `sample` `runs` times one after the other and records the median. */
  async median(name: string, sample: (run: number) => Promise<number>, options: MeasureOptions = {}): Promise<number> {
    const values: number[] = [];
    for (let run = 1; run <= (options.runs ?? this.runs); run++) values.push(await sample(run));
    return this.record(name, values, options);
  }

  /**
   * Runs every sample once per round, round after round (A, B, A, B …), so that a machine whose
   * speed drifts (other work starting, the page cache filling) weighs on each side alike; records
   * the median of each. Returns the medians by name.
   */
  async interleaved<K extends string>(samples: Record<K, { sample: (run: number) => Promise<number> } & MeasureOptions>): Promise<Record<K, number>> {
    const names = Object.keys(samples) as K[];
    const values = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
    const rounds = Math.max(...names.map((name) => samples[name].runs ?? this.runs));
    for (let run = 1; run <= rounds; run++) {
      for (const name of names) if (run <= (samples[name].runs ?? this.runs)) values[name].push(await samples[name].sample(run));
    }
    return Object.fromEntries(names.map((name) => [name, this.record(name, values[name], samples[name])])) as Record<K, number>;
  }

  /** `numerator / denominator`, recorded under `ratios`, and a target on it when a bound is given. */
  ratio(name: string, numerator: number, denominator: number, bound?: Bound): number {
    const value = numerator / denominator;
    this.ratios[name] = round(value);
    if (bound) this.target(name, value, bound);
    return value;
  }

  /** A target on any figure (a ratio, a latency, a peak RSS): met or missed. */
  target(name: string, value: number, bound: Bound): boolean {
    const met = Number.isFinite(value) && meets(value, bound);
    this.targets[name] = { value: round(value), ...bound, met };
    return met;
  }

  note(line: string): void {
    this.notes.push(line);
  }

  get met(): boolean {
    return Object.values(this.targets).every((target) => target.met);
  }

  report(): BenchReport {
    const rounded = (measures: Record<string, Measure>) =>
      Object.fromEntries(Object.entries(measures).map(([name, measure]) => [name, { ...measure, value: round(measure.value), runs: measure.runs.map(round) }]));
    return {
      bench: this.name,
      measures: rounded(this.measures),
      baselines: rounded(this.baselines),
      ratios: this.ratios,
      targets: this.targets,
      met: this.met,
      explore: this.explore,
      runs: this.runs,
      load: { before: this.loadBefore, after: loadNow() },
      notes: this.notes,
    };
  }
}

/** The human table printed before the JSON line. */
export function formatReport(report: BenchReport): string {
  const lines = [`\nbench:${report.bench}  (medians of up to ${report.runs} runs)`];
  const figure = (kind: string, name: string, measure: Measure) =>
    `  ${kind.padEnd(9)} ${name.padEnd(44)} ${String(round(measure.value)).padStart(10)} ${measure.unit ?? ''}${measure.runs.length > 1 ? `  (runs: ${measure.runs.map(round).join(', ')})` : ''}`;
  for (const [name, measure] of Object.entries(report.measures)) lines.push(figure('wharf', name, measure));
  for (const [name, measure] of Object.entries(report.baselines)) lines.push(figure('baseline', name, measure));
  for (const [name, value] of Object.entries(report.ratios)) if (!(name in report.targets)) lines.push(`  ${'ratio'.padEnd(9)} ${name.padEnd(44)} ${String(value).padStart(10)}`);
  for (const [name, target] of Object.entries(report.targets)) {
    const bound = target.atLeast !== undefined ? `≥ ${target.atLeast}` : `≤ ${target.atMost}`;
    lines.push(`  ${'target'.padEnd(9)} ${name.padEnd(44)} ${String(target.value).padStart(10)}  (${bound}) ${target.met ? 'met' : 'MISSED'}`);
  }
  for (const note of report.notes) lines.push(`  ${note}`);
  lines.push(`  load average before ${report.load.before.join(' ')}, after ${report.load.after.join(' ')} (figures under load are inflated)`);
  const missed = Object.keys(report.targets).filter((name) => !report.targets[name].met);
  lines.push(missed.length === 0 ? '  result: every target met' : `  result: ${missed.length} target(s) MISSED: ${missed.join('; ')}${report.explore ? ' (--explore: exit code 0)' : ''}`);
  return lines.join('\n');
}

/** `--explore` on the command line or BENCH_EXPLORE=1: report misses without failing. */
export function exploring(argv = process.argv, env = process.env): boolean {
  return argv.includes('--explore') || env.BENCH_EXPLORE === '1';
}

/** Positive integer from the environment, or the default; anything else stops the bench with a clear message. */
export function envNumber(name: string, fallback: number, env = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}=${JSON.stringify(raw)}: must be a non-negative number`);
  return value;
}

/** The table, the JSON line and the exit code a finished bench ends with. */
export function conclude(bench: Bench): { text: string; exitCode: number } {
  const report = bench.report();
  return { text: `${formatReport(report)}\n${JSON.stringify(report)}\n`, exitCode: report.met || report.explore ? 0 : 1 };
}

/**
 * Runs a bench: builds its Bench, awaits `body`, prints the table and the JSON line, and sets the
 * exit code as the header says. Cleanup belongs in `body`'s own `finally`.
 */
export function runBench(name: string, body: (bench: Bench) => Promise<void>): Promise<void> {
  const bench = new Bench(name, Math.max(1, Math.round(envNumber('BENCH_RUNS', 3))), exploring());
  return body(bench).then(
    () => {
      const { text, exitCode } = conclude(bench);
      process.stdout.write(text);
      process.exitCode = exitCode;
    },
    (error: unknown) => {
      process.stderr.write(`bench:${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
