/**
 * npm run bench:upload — one run, side by side:
 *   1. direct multipart upload with the minio client vs a Wharf parallel chunked upload (until
 *      the version is ready) to the same S3 endpoint (s3rver started here, or TEST_S3_ENDPOINT
 *      with TEST_S3_ACCESS_KEY / TEST_S3_SECRET_KEY, e.g. Ceph RGW);
 *   2. `cp` of the same file on the same disk vs a Wharf upload on the filesystem driver;
 *   3. the registry's peak RSS (VmHWM of the child process) during a BENCH_RSS_SIZE upload.
 * Sizes: BENCH_SIZE (default 1 GiB), BENCH_RSS_SIZE (default 4 GiB; 0 skips), BENCH_CONCURRENCY
 * (parallel parts, default 4), BENCH_PART_SIZE (UPLOAD_PART_SIZE, default 16 MiB), BENCH_DIR
 * (where the files go, default the OS temp dir). With TEST_DATABASE_URL each registry gets a
 * fresh database there; otherwise it runs embedded PGlite (whose WASM heap counts in its RSS).
 * Targets: Wharf ≥ 0.8× direct S3, fs ≥ 0.6× cp,
 * peak RSS ≤ 300 MiB. The embedded database (PGlite) runs in a process of its own; its RSS is
 * printed on a line of its own. BENCH_S3=0 skips the S3 comparison.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as Minio from 'minio';
import { externalS3, startS3rver } from '../test/support/s3';
import { embeddedDatabasePid, RegistryProcess, startRegistryProcess } from '../test/support/registry-process';
import { createTestDatabase, TestDatabase } from '../test/support/test-database';
import { ADMIN_TOKEN } from '../test/support/test-registry';

const MIB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_SIZE ?? 1024 * MIB);
const RSS_SIZE = Number(process.env.BENCH_RSS_SIZE ?? 4096 * MIB);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const PART_SIZE = Number(process.env.BENCH_PART_SIZE ?? 16 * MIB);
/** BENCH_S3=0 skips the S3 comparison (a quicker run of the filesystem part). */
const WITH_S3 = process.env.BENCH_S3 !== '0';
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY + 2 });

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const rate = (bytes: number, time: number) => `${(bytes / MIB / time).toFixed(1)} MiB/s`;

async function makeFile(file: string, size: number): Promise<void> {
  const out = createWriteStream(file);
  const block = randomBytes(4 * MIB);
  for (let written = 0; written < size; ) {
    const chunk = block.subarray(0, Math.min(block.length, size - written));
    // Vary every block so no layer can dedupe or compress it away.
    chunk.writeUInt32LE(written / MIB, 0);
    if (!out.write(Buffer.from(chunk))) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    written += chunk.length;
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * MIB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function call(url: string, method: string, route: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(new URL(route, url), {
      method,
      agent,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}) },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function putPartFromFile(url: string, id: string, number: number, file: string, start: number, size: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(`/api/v1/uploads/${id}/parts/${number}`, url), {
      method: 'PUT',
      agent,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/octet-stream', 'Content-Length': size },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`part ${number}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    createReadStream(file, { start, end: start + size - 1, highWaterMark: MIB }).pipe(req);
  });
}

/** What a Wharf client does: draft, upload session, parts in parallel, complete, commit. */
async function wharfUpload(url: string, file: string, size: number, sha256: string): Promise<{ parts: number; complete: number }> {
  const project = `bench-${randomUUID().slice(0, 8)}`;
  const check = (response: { status: number; json: unknown }, expected: number) => {
    if (response.status !== expected) throw new Error(`HTTP ${response.status}: ${JSON.stringify(response.json)}`);
    return response.json as Record<string, unknown>;
  };
  check(await call(url, 'POST', '/api/v1/projects', { name: project }), 201);
  check(await call(url, 'POST', `/api/v1/projects/${project}/models`, { name: 'm' }), 201);
  check(await call(url, 'POST', `/api/v1/projects/${project}/models/m/versions`, {}), 201);
  const versions = `/api/v1/projects/${project}/models/m/versions`;
  const upload = check(await call(url, 'POST', `${versions}/1/uploads`, { path: 'model.bin', size, sha256 }), 201);
  const partSize = upload.partSize as number;
  const queue = Array.from({ length: upload.partCount as number }, (_, index) => index + 1);
  const partsStart = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let number = queue.shift(); number !== undefined; number = queue.shift()) {
        const start = (number - 1) * partSize;
        await putPartFromFile(url, upload.id as string, number, file, start, Math.min(partSize, size - start));
      }
    }),
  );
  const parts = seconds(partsStart);
  const completeStart = process.hrtime.bigint();
  check(await call(url, 'POST', `/api/v1/uploads/${upload.id}/complete`), 200);
  const version = check(await call(url, 'POST', `${versions}/1/commit`), 200);
  if (version.state !== 'ready') throw new Error('the version is not ready');
  return { parts, complete: seconds(completeStart) };
}

const databases: TestDatabase[] = [];

/** A registry child process on its own data dir (and its own database with TEST_DATABASE_URL). */
async function registry(dataDir: string, env: Record<string, string> = {}): Promise<RegistryProcess> {
  const database = await createTestDatabase();
  if (database) databases.push(database);
  return startRegistryProcess({
    DATA_DIR: dataDir,
    UPLOAD_PART_SIZE: String(PART_SIZE),
    GC_INTERVAL_SECONDS: '0',
    LOG_LEVEL: 'info',
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...env,
  }, 30_000, { compiled: true });
}

async function rssOfPid(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
}

async function rssOf(child: RegistryProcess, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  return rssOfPid(child.child.pid!, field);
}

/** Polls the child's VmHWM (peak resident set) while `work` runs. */
async function peakRssOf(registry: RegistryProcess, work: () => Promise<void>): Promise<number> {
  const read = () => rssOf(registry, 'VmHWM');
  let peak = await read();
  const timer = setInterval(() => void read().then((value) => (peak = Math.max(peak, value)), () => undefined), 100);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, await read());
}

/** The minio client's own multipart upload vs Wharf in front of the same S3 endpoint. */
async function benchS3(target: { endpoint: string; accessKey: string; secretKey: string }, dir: string, file: string, sha256: string, registries: RegistryProcess[]) {
  const url = new URL(target.endpoint);
  const minio = new Minio.Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey: target.accessKey, secretKey: target.secretKey, region: 'us-east-1', pathStyle: true });
  const bucket = `bench-direct-${randomUUID().slice(0, 8)}`;
  await minio.makeBucket(bucket, 'us-east-1');
  let start = process.hrtime.bigint();
  await minio.fPutObject(bucket, 'model.bin', file);
  const direct = seconds(start);

  const s3Registry = await registry(path.join(dir, 'registry-s3'), {
    S3_ENDPOINT: target.endpoint,
    S3_ACCESS_KEY: target.accessKey,
    S3_SECRET_KEY: target.secretKey,
    S3_BUCKET: `bench-wharf-${randomUUID().slice(0, 8)}`,
  });
  registries.push(s3Registry);
  let wharf = 0;
  let phases = { parts: 0, complete: 0 };
  const peakRss = await peakRssOf(s3Registry, async () => {
    start = process.hrtime.bigint();
    phases = await wharfUpload(s3Registry.url, file, SIZE, sha256);
    wharf = seconds(start);
  });
  return { direct, wharf, phases, peakRss };
}

async function main(): Promise<void> {
  // The registry runs compiled, as `npm start` runs it, so its memory is the product's own.
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  const dir = await mkdtemp(path.join(process.env.BENCH_DIR ?? tmpdir(), 'wharf-bench-'));
  const external = externalS3();
  const s3 = external || !WITH_S3 ? null : await startS3rver();
  const target = external ?? s3!;
  const registries: RegistryProcess[] = [];
  const rows: string[][] = [];
  try {
    const file = path.join(dir, 'model.bin');
    process.stderr.write(`making a ${SIZE / MIB} MiB file in ${dir}\n`);
    await makeFile(file, SIZE);
    let start = process.hrtime.bigint();
    const sha256 = await sha256File(file);
    const hashTime = seconds(start);

    // 1. S3: the minio client directly vs Wharf in front of the same endpoint.
    const s3Result = WITH_S3 ? await benchS3(target, dir, file, sha256, registries) : null;

    // 2. Filesystem: cp on the same disk vs Wharf's fs driver on the same disk.
    start = process.hrtime.bigint();
    execFileSync('cp', [file, path.join(dir, 'copy.bin')]);
    const cp = seconds(start);
    await rm(path.join(dir, 'copy.bin'));
    // The same copy with the checks Wharf makes before a file is visible: its sha256, on disk.
    start = process.hrtime.bigint();
    execFileSync('sh', ['-c', 'cp "$1" "$2" && sha256sum "$2" >/dev/null && sync "$2"', 'sh', file, path.join(dir, 'copy.bin')]);
    const verifiedCp = seconds(start);
    await rm(path.join(dir, 'copy.bin'));
    const fsRegistry = await registry(path.join(dir, 'registry-fs'));
    registries.push(fsRegistry);
    const idleRss = await rssOf(fsRegistry, 'VmRSS');
    let wharfFs = 0;
    let fsPhases = { parts: 0, complete: 0 };
    const fsRss = await peakRssOf(fsRegistry, async () => {
      start = process.hrtime.bigint();
      fsPhases = await wharfUpload(fsRegistry.url, file, SIZE, sha256);
      wharfFs = seconds(start);
    });

    if (WITH_S3) rows.push(['S3 endpoint', external ? `${target.endpoint} (external)` : 's3rver (in the bench process)']);
    rows.push(['file', `${(SIZE / MIB).toFixed(0)} MiB; client sha256 ${hashTime.toFixed(2)} s (${rate(SIZE, hashTime)}), not counted below`]);
    if (s3Result) {
      const { direct, wharf, phases } = s3Result;
      rows.push(['direct minio fPutObject', `${direct.toFixed(2)} s  ${rate(SIZE, direct)}`]);
      rows.push(['Wharf → S3, until ready', `${wharf.toFixed(2)} s  ${rate(SIZE, wharf)}  = ${(direct / wharf).toFixed(2)}× direct (target ≥ 0.8)`]);
      rows.push(['  of which', `parts ${phases.parts.toFixed(2)} s, complete + commit ${phases.complete.toFixed(2)} s`]);
    }
    rows.push(['cp (same disk)', `${cp.toFixed(2)} s  ${rate(SIZE, cp)}`]);
    rows.push(['cp + sha256sum + sync', `${verifiedCp.toFixed(2)} s  ${rate(SIZE, verifiedCp)}`]);
    rows.push(['Wharf → fs, until ready', `${wharfFs.toFixed(2)} s  ${rate(SIZE, wharfFs)}  = ${(cp / wharfFs).toFixed(2)}× cp (target ≥ 0.6), ${(verifiedCp / wharfFs).toFixed(2)}× verified cp`]);
    rows.push(['  of which', `parts ${fsPhases.parts.toFixed(2)} s, complete + commit ${fsPhases.complete.toFixed(2)} s`]);
    rows.push(['database', databases.length ? 'Postgres (TEST_DATABASE_URL)' : 'embedded PGlite']);
    rows.push(['registry RSS when idle', `${(idleRss / MIB).toFixed(0)} MiB`]);
    const database = await embeddedDatabasePid(fsRegistry);
    if (database) rows.push(['embedded database RSS when idle', `${((await rssOfPid(database, 'VmRSS')) / MIB).toFixed(0)} MiB (PGlite, a process of its own)`]);
    if (s3Result) rows.push(['registry peak RSS (S3 run)', `${(s3Result.peakRss / MIB).toFixed(0)} MiB`]);
    rows.push(['registry peak RSS (fs run)', `${(fsRss / MIB).toFixed(0)} MiB`]);

    // 3. Peak RSS during a large upload (fs driver: no S3 server competing for the disk).
    if (RSS_SIZE > 0) {
      await rm(file);
      const big = path.join(dir, 'big.bin');
      process.stderr.write(`making a ${RSS_SIZE / MIB} MiB file\n`);
      await makeFile(big, RSS_SIZE);
      const bigSha = await sha256File(big);
      const rssRegistry = await registry(path.join(dir, 'registry-rss'));
      registries.push(rssRegistry);
      let time = 0;
      const peak = await peakRssOf(rssRegistry, async () => {
        start = process.hrtime.bigint();
        await wharfUpload(rssRegistry.url, big, RSS_SIZE, bigSha);
        time = seconds(start);
      });
      rows.push([`registry peak RSS, ${RSS_SIZE / MIB} MiB upload (fs)`, `${(peak / MIB).toFixed(0)} MiB (target ≤ 300); took ${time.toFixed(1)} s, ${rate(RSS_SIZE, time)}`]);
      const rssDatabase = await embeddedDatabasePid(rssRegistry);
      if (rssDatabase) rows.push(['embedded database process (PGlite)', `peak RSS ${((await rssOfPid(rssDatabase, 'VmHWM')) / MIB).toFixed(0)} MiB, its own process beside the registry's`]);
    }
    const width = Math.max(...rows.map((row) => row[0].length));
    process.stdout.write(`\nbench:upload  concurrency ${CONCURRENCY}, part size ${PART_SIZE / MIB} MiB\n`);
    for (const [name, value] of rows) process.stdout.write(`  ${name.padEnd(width)}  ${value}\n`);
  } finally {
    for (const registry of registries) await registry.stop().catch(() => undefined);
    await s3?.close();
    for (const database of databases) await database.drop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    agent.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:upload failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
