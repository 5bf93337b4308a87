/**
 * npm run bench:upload — one run, side by side, each figure the median of BENCH_RUNS runs
 * (default 3; Wharf's and its baseline's interleaved run by run):
 *   1. to the same S3 endpoint (s3rver started here, or TEST_S3_ENDPOINT with TEST_S3_ACCESS_KEY /
 *      TEST_S3_SECRET_KEY, e.g. Ceph RGW): a direct parallel multipart upload (the same
 *      concurrency and part size, no Wharf: the fair baseline) vs a Wharf parallel chunked
 *      upload until the version is ready, and `wharf push` of the same file (hashing included)
 *      vs that registry upload; minio's fPutObject (one part at a time) for reference;
 *   2. `cp` of the same file on the same disk vs a Wharf upload on the filesystem driver, with
 *      two more for scale: a bare Node HTTP server that only writes and fsyncs the parts (the
 *      floor of any HTTP upload here), and `wharf push` (a sha256 on every part); plus the CPU
 *      seconds the registry, the client and the embedded database spent;
 *   3. the registry's peak RSS (VmHWM of the child process) during a BENCH_RSS_SIZE upload.
 * Sizes: BENCH_SIZE (default 1 GiB), BENCH_RSS_SIZE (default 4 GiB; 0 skips), BENCH_CONCURRENCY
 * (parallel parts, default 4), BENCH_PART_SIZE (UPLOAD_PART_SIZE, default 16 MiB), BENCH_DIR
 * (where the files go, default the OS temp dir). With TEST_DATABASE_URL each registry gets a
 * fresh database there; otherwise it runs embedded PGlite. The Wharf uploads go through the
 * SDK (`WharfClient.putPart`), part buffers used again as `wharf push` does; each run's project
 * is deleted and collected after it, so repeated runs fit a small store. Targets: Wharf ≥ 0.9×
 * direct parallel multipart, `wharf push` ≤ 1.2× the registry's own upload, fs ≥ 0.6× cp,
 * peak RSS ≤ 300 MiB. BENCH_S3=0 skips the S3 comparison. Ends with the harness's table and
 * JSON line (bench/harness/bench.ts); a missed target exits 1 unless `--explore`.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as Minio from 'minio';
import { externalS3, startS3rver } from '../test/support/s3';
import { embeddedDatabasePid, RegistryProcess, startRegistryProcess } from '../test/support/registry-process';
import { createTestDatabase, TestDatabase } from '../test/support/test-database';
import { Bench, envNumber, runBench } from './harness/bench';
import { cpuSecondsOf, peakRssWhile, rssOfPid } from './harness/process-stats';
import { bareServerUpload, directMultipart, makeFile, MIB, removeProject, S3Target, seconds, sha256File, UploadShape, wharfPush, wharfUpload } from './upload/transfers';

const SIZE = envNumber('BENCH_SIZE', 1024 * MIB);
const RSS_SIZE = envNumber('BENCH_RSS_SIZE', 4096 * MIB);
const CONCURRENCY = envNumber('BENCH_CONCURRENCY', 4);
const PART_SIZE = envNumber('BENCH_PART_SIZE', 16 * MIB);
/** BENCH_S3=0 skips the S3 comparison (a quicker run of the filesystem part). */
const WITH_S3 = process.env.BENCH_S3 !== '0';

const mibps = (bytes: number, time: number) => bytes / MIB / time;

interface Context {
  dir: string;
  shape: UploadShape;
  sha256: string;
  registries: RegistryProcess[];
  databases: TestDatabase[];
}

/** A registry child process on its own data dir (and its own database with TEST_DATABASE_URL). */
async function registry(ctx: Context, name: string, env: Record<string, string> = {}): Promise<RegistryProcess> {
  const database = await createTestDatabase();
  if (database) ctx.databases.push(database);
  const started = await startRegistryProcess(
    {
      DATA_DIR: path.join(ctx.dir, name),
      UPLOAD_PART_SIZE: String(PART_SIZE),
      GC_INTERVAL_SECONDS: '0',
      // Each run's project is deleted and collected at once after it (removeProject).
      GC_GRACE_SECONDS: '0',
      LOG_LEVEL: 'info',
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...env,
    },
    120_000,
    // The registry runs compiled, as `npm start` runs it, so its memory is the product's own.
    { compiled: true },
  );
  ctx.registries.push(started);
  return started;
}

/**
 * One Wharf upload as a sample, in seconds until ready; its registry's CPU and peak RSS go to
 * `seen`, and its project is removed after it.
 */
async function timedWharfUpload(ctx: Context, target: RegistryProcess, seen: { cpu: number[]; client: number[]; rss: number[]; parts: number[]; complete: number[] }): Promise<number> {
  const pid = target.child.pid!;
  const cpuBefore = await cpuSecondsOf(pid);
  const clientBefore = process.cpuUsage();
  let time = 0;
  let project = '';
  const rss = await peakRssWhile(pid, async () => {
    const start = process.hrtime.bigint();
    const result = await wharfUpload(target.url, ctx.shape, ctx.sha256);
    time = seconds(start);
    project = result.project;
    seen.parts.push(result.parts);
    seen.complete.push(result.complete);
  });
  const client = process.cpuUsage(clientBefore);
  seen.cpu.push((await cpuSecondsOf(pid)) - cpuBefore);
  seen.client.push((client.user + client.system) / 1e6);
  seen.rss.push(rss);
  await removeProject(target.url, project);
  return time;
}

/** `wharf push` runs as samples: `time` picks what is compared (with or without its hashing). */
async function pushRuns(bench: Bench, ctx: Context, target: RegistryProcess, name: string, time: (run: { hashing: number; afterHashing: number }) => number): Promise<number> {
  const hashing: number[] = [];
  const median = await bench.median(name, async () => {
    const pushed = await wharfPush(target.url, ctx.shape, path.join(ctx.dir, 'push-state'));
    await removeProject(target.url, pushed.project);
    hashing.push(pushed.hashing);
    return time(pushed);
  }, { unit: 's' });
  bench.note(`${name}: its hashing took ${hashing.map((value) => value.toFixed(2)).join(', ')} s`);
  return median;
}

const newSeen = () => ({ cpu: [] as number[], client: [] as number[], rss: [] as number[], parts: [] as number[], complete: [] as number[] });
const middle = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** 1. S3: the minio client directly vs Wharf in front of the same endpoint. */
async function benchS3(bench: Bench, ctx: Context, target: S3Target, label: string): Promise<void> {
  bench.note(`S3 endpoint: ${label}`);
  const url = new URL(target.endpoint);
  const minio = new Minio.Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey: target.accessKey, secretKey: target.secretKey, region: 'us-east-1', pathStyle: true });
  const bucket = `bench-direct-${randomUUID().slice(0, 8)}`;
  await minio.makeBucket(bucket, 'us-east-1');
  const start = process.hrtime.bigint();
  await minio.fPutObject(bucket, 'model.bin', ctx.shape.file);
  bench.record('direct minio fPutObject, 1 part at a time, reference (s)', seconds(start), { unit: 's', baseline: true });
  await minio.removeObject(bucket, 'model.bin');

  const s3Registry = await registry(ctx, 'registry-s3', { S3_ENDPOINT: target.endpoint, S3_ACCESS_KEY: target.accessKey, S3_SECRET_KEY: target.secretKey, S3_BUCKET: `bench-wharf-${randomUUID().slice(0, 8)}` });
  const seen = newSeen();
  const medians = await bench.interleaved({
    [`direct parallel multipart, ${CONCURRENCY} × ${PART_SIZE / MIB} MiB (s)`]: { unit: 's', baseline: true, sample: () => directMultipart(target, ctx.shape) },
    'Wharf → S3, until ready (s)': { unit: 's', sample: () => timedWharfUpload(ctx, s3Registry, seen) },
  });
  const [direct, wharf] = Object.values(medians);
  bench.ratio('Wharf → S3 / direct multipart throughput', direct, wharf, { atLeast: 0.9 });
  bench.note(`Wharf → S3: parts ${middle(seen.parts).toFixed(2)} s, complete + commit ${middle(seen.complete).toFixed(2)} s; CPU registry ${middle(seen.cpu).toFixed(2)} s, client ${middle(seen.client).toFixed(2)} s (2 cores: ${(2 * wharf).toFixed(2)} s available)`);
  bench.record('registry peak RSS, S3 runs (MiB)', Math.max(...seen.rss) / MIB, { unit: 'MiB' });
  // What a user runs, hashing included, against the same registry and store.
  const push = await pushRuns(bench, ctx, s3Registry, 'wharf push → S3, hashing included (s)', (run) => run.hashing + run.afterHashing);
  bench.ratio("wharf push / the registry's own upload (time)", push, wharf, { atMost: 1.2 });
}

function cp(ctx: Context, command: string): number {
  const start = process.hrtime.bigint();
  execFileSync('sh', ['-c', command, 'sh', ctx.shape.file, path.join(ctx.dir, 'copy.bin')]);
  const time = seconds(start);
  execFileSync('rm', ['-f', path.join(ctx.dir, 'copy.bin')]);
  return time;
}

/** 2. Filesystem: cp on the same disk vs Wharf's fs driver on the same disk. */
async function benchFs(bench: Bench, ctx: Context): Promise<void> {
  const fsRegistry = await registry(ctx, 'registry-fs');
  bench.record('registry RSS when idle (MiB)', (await rssOfPid(fsRegistry.child.pid!, 'VmRSS')) / MIB, { unit: 'MiB' });
  const database = await embeddedDatabasePid(fsRegistry);
  if (database) bench.record('embedded database (PGlite) RSS when idle (MiB)', (await rssOfPid(database, 'VmRSS')) / MIB, { unit: 'MiB' });
  const databaseCpu = database ? await cpuSecondsOf(database) : 0;
  const seen = newSeen();
  // cp's time varies by half from one run to the next here (page cache): medians, interleaved.
  const medians = await bench.interleaved({
    'cp, same disk (s)': { unit: 's', baseline: true, sample: async () => cp(ctx, 'cp "$1" "$2"') },
    'bare Node HTTP server, write + fsync (s)': { unit: 's', baseline: true, sample: () => bareServerUpload(ctx.dir, ctx.shape) },
    'Wharf → fs, until ready (s)': { unit: 's', sample: () => timedWharfUpload(ctx, fsRegistry, seen) },
  });
  const [cpTime, bare, wharf] = Object.values(medians);
  // The same copy with the checks Wharf makes before a file is visible: its sha256, on disk.
  const verified = bench.record('cp + sha256sum + sync (s)', cp(ctx, 'cp "$1" "$2" && sha256sum "$2" >/dev/null && sync "$2"'), { unit: 's', baseline: true });
  bench.ratio('Wharf → fs / cp throughput', cpTime, wharf, { atLeast: 0.6 });
  bench.ratio('Wharf → fs / verified cp throughput', verified, wharf);
  bench.ratio('Wharf → fs / bare server throughput', bare, wharf);
  bench.ratio('bare server / cp throughput', cpTime, bare);
  const databaseUsed = database ? `, embedded database ${((await cpuSecondsOf(database)) - databaseCpu).toFixed(2)} s over all runs` : '';
  bench.note(`Wharf → fs: parts ${middle(seen.parts).toFixed(2)} s, complete + commit ${middle(seen.complete).toFixed(2)} s; CPU registry ${middle(seen.cpu).toFixed(2)} s, client ${middle(seen.client).toFixed(2)} s${databaseUsed} (2 cores: ${(2 * wharf).toFixed(2)} s available)`);
  bench.record('registry peak RSS, fs runs (MiB)', Math.max(...seen.rss) / MIB, { unit: 'MiB' });
  // What a user runs: the CLI's push, with a checksum on every part.
  const pushed = await pushRuns(bench, ctx, fsRegistry, 'wharf push → fs, after its hashing (s)', (run) => run.afterHashing);
  bench.ratio('wharf push → fs / cp throughput', cpTime, pushed);
}

/** 3. Peak RSS during a large upload (fs driver: no S3 server competing for the disk). One run: it is a ceiling, not a speed. */
async function benchRss(bench: Bench, ctx: Context): Promise<void> {
  await rm(ctx.shape.file);
  const big = path.join(ctx.dir, 'big.bin');
  process.stderr.write(`making a ${RSS_SIZE / MIB} MiB file\n`);
  await makeFile(big, RSS_SIZE);
  const rssRegistry = await registry(ctx, 'registry-rss');
  const seen = newSeen();
  const time = await timedWharfUpload({ ...ctx, shape: { ...ctx.shape, file: big, size: RSS_SIZE }, sha256: await sha256File(big) }, rssRegistry, seen);
  const peak = bench.record(`registry peak RSS, ${RSS_SIZE / MIB} MiB upload, fs (MiB)`, seen.rss[0] / MIB, { unit: 'MiB' });
  bench.target('registry peak RSS during a large upload (MiB)', peak, { atMost: 300 });
  bench.note(`the ${RSS_SIZE / MIB} MiB upload took ${time.toFixed(1)} s, ${mibps(RSS_SIZE, time).toFixed(1)} MiB/s`);
  const database = await embeddedDatabasePid(rssRegistry);
  if (database) bench.record('embedded database (PGlite) peak RSS, its own process (MiB)', (await rssOfPid(database, 'VmHWM')) / MIB, { unit: 'MiB' });
}

void runBench('upload', async (bench) => {
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  const dir = await mkdtemp(path.join(process.env.BENCH_DIR ?? tmpdir(), 'wharf-bench-'));
  const external = externalS3();
  const s3 = external || !WITH_S3 ? null : await startS3rver();
  const ctx: Context = { dir, shape: { file: path.join(dir, 'model.bin'), size: SIZE, partSize: PART_SIZE, concurrency: CONCURRENCY }, sha256: '', registries: [], databases: [] };
  try {
    process.stderr.write(`making a ${SIZE / MIB} MiB file in ${dir}\n`);
    await makeFile(ctx.shape.file, SIZE);
    const start = process.hrtime.bigint();
    ctx.sha256 = await sha256File(ctx.shape.file);
    const hashTime = seconds(start);
    bench.note(`file: ${(SIZE / MIB).toFixed(0)} MiB, ${CONCURRENCY} parts of ${PART_SIZE / MIB} MiB in flight; client sha256 ${hashTime.toFixed(2)} s (${mibps(SIZE, hashTime).toFixed(0)} MiB/s), not counted`);
    bench.note(`database: ${process.env.TEST_DATABASE_URL ? 'Postgres (TEST_DATABASE_URL)' : 'embedded PGlite'}`);
    if (WITH_S3) await benchS3(bench, ctx, external ?? s3!, external ? `${external.endpoint} (external)` : 's3rver (in the bench process)');
    await benchFs(bench, ctx);
    if (RSS_SIZE > 0) await benchRss(bench, ctx);
  } finally {
    for (const started of ctx.registries) await started.stop().catch(() => undefined);
    await s3?.close();
    for (const database of ctx.databases) await database.drop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});
