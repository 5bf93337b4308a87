/**
 * npm run bench:upload — one run, side by side:
 *   1. to the same S3 endpoint (s3rver started here, or TEST_S3_ENDPOINT with TEST_S3_ACCESS_KEY /
 *      TEST_S3_SECRET_KEY, e.g. Ceph RGW): a direct parallel multipart upload (the same
 *      concurrency and part size, no Wharf: the fair baseline) vs a Wharf parallel chunked
 *      upload until the version is ready, and `wharf push` of the same file (hashing included)
 *      vs that registry upload; minio's fPutObject (one part at a time) for reference;
 *   2. `cp` of the same file on the same disk (median of 3) vs a Wharf upload on the filesystem
 *      driver, with two more for scale: a bare Node HTTP server that only writes and fsyncs the
 *      parts (the floor of any HTTP upload here), and `wharf push` (a sha256 on every part);
 *      plus the CPU seconds the registry, the client and the embedded database spent;
 *   3. the registry's peak RSS (VmHWM of the child process) during a BENCH_RSS_SIZE upload.
 * Sizes: BENCH_SIZE (default 1 GiB), BENCH_RSS_SIZE (default 4 GiB; 0 skips), BENCH_CONCURRENCY
 * (parallel parts, default 4), BENCH_PART_SIZE (UPLOAD_PART_SIZE, default 16 MiB), BENCH_DIR
 * (where the files go, default the OS temp dir). With TEST_DATABASE_URL each registry gets a
 * fresh database there; otherwise it runs embedded PGlite. The Wharf uploads go through the
 * SDK (`WharfClient.putPart`), part buffers used again as `wharf push` does. Targets: Wharf ≥ 0.9×
 * direct parallel multipart, `wharf push` ≤ 1.2× the registry's own upload, fs ≥ 0.6× cp,
 * peak RSS ≤ 300 MiB. The embedded database (PGlite) runs in a process of its own; its RSS is
 * printed on a line of its own. BENCH_S3=0 skips the S3 comparison.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as Minio from 'minio';
import { Readable } from 'node:stream';
import { push } from '../src/client/transfer/push';
import { S3ArtifactStore } from '../src/storage/s3.driver';
import { WharfClient } from '../src/client/wharf-client';
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

/** Part buffers used again from part to part, as `wharf push` does. */
const spareParts: Buffer[] = [];

async function readRange(file: string, start: number, into: Buffer): Promise<void> {
  const handle = await open(file, 'r');
  try {
    for (let read = 0; read < into.length; ) {
      const { bytesRead } = await handle.read(into, read, into.length - read, start + read);
      if (bytesRead === 0) throw new Error(`${file} is shorter than expected`);
      read += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Sends `file` in parts of `partSize`, CONCURRENCY at a time, each read into a buffer used again
 * for the next part (as `wharf push` does); `send` puts one part wherever it goes.
 */
async function sendParts(file: string, size: number, partSize: number, send: (number: number, body: Buffer) => Promise<unknown>): Promise<void> {
  const queue = Array.from({ length: Math.ceil(size / partSize) }, (_, index) => index + 1);
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      const reused = spareParts.pop();
      const buffer = reused && reused.length >= partSize ? reused : Buffer.allocUnsafe(partSize);
      for (let number = queue.shift(); number !== undefined; number = queue.shift()) {
        const start = (number - 1) * partSize;
        const body = buffer.subarray(0, Math.min(partSize, size - start));
        await readRange(file, start, body);
        await send(number, body);
      }
      spareParts.push(buffer);
    }),
  );
}

/** A new project (so nothing is deduplicated) with model `m`. */
async function newModel(client: WharfClient): Promise<string> {
  const project = `bench-${randomUUID().slice(0, 8)}`;
  await client.createProject({ name: project });
  await client.createModel(project, { name: 'm' });
  return project;
}

/**
 * A Wharf upload through the SDK with the least the protocol asks for: draft, upload session,
 * parts in parallel (no per-part sha256: the registry checks the file's sha256 at complete),
 * complete, commit.
 */
async function wharfUpload(url: string, file: string, size: number, sha256: string): Promise<{ parts: number; complete: number }> {
  const client = new WharfClient({ url, token: ADMIN_TOKEN });
  const project = await newModel(client);
  await client.createVersion(project, 'm');
  const upload = await client.createUpload(project, 'm', 1, { path: 'model.bin', size, sha256 });
  const partsStart = process.hrtime.bigint();
  await sendParts(file, size, upload.partSize, (number, body) => client.putPart(upload.id, number, body));
  const parts = seconds(partsStart);
  const completeStart = process.hrtime.bigint();
  await client.completeUpload(upload.id);
  const version = await client.commitVersion(project, 'm', 1);
  if (version.state !== 'ready') throw new Error('the version is not ready');
  return { parts, complete: seconds(completeStart) };
}

/** What `wharf push FILE` does (each part with its sha256), timed from the end of its local hashing. */
async function wharfPush(url: string, file: string, dir: string): Promise<{ hashing: number; afterHashing: number }> {
  const client = new WharfClient({ url, token: ADMIN_TOKEN });
  const project = await newModel(client);
  const start = process.hrtime.bigint();
  let hashed = start;
  await push(client, {
    project,
    model: 'm',
    source: file,
    concurrency: CONCURRENCY,
    stateDirectory: path.join(dir, 'push-state'),
    progress: (phase) => ({ add: () => undefined, finish: () => (phase === 'hashing' ? (hashed = process.hrtime.bigint()) : undefined) }),
  });
  return { hashing: Number(hashed - start) / 1e9, afterHashing: seconds(hashed) };
}

/**
 * The floor under any HTTP upload here: a bare Node server in a process of its own that writes
 * each part to a file of its own and fsyncs it, with no authentication, database or hashing,
 * fed by the same client code. What Wharf adds is measured against this, not only against cp.
 */
const BARE_SERVER = `
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const dir = process.argv[1];
http.createServer((request, response) => {
  const out = fs.createWriteStream(path.join(dir, 'part-' + request.url.split('/').pop()), { flush: true, highWaterMark: 1024 * 1024 });
  request.pipe(out).on('finish', () => response.end('{}'));
}).listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n'); });
`;

async function bareServerUpload(dir: string, file: string, size: number): Promise<number> {
  const partsDir = path.join(dir, 'bare-parts');
  await mkdir(partsDir);
  const child = spawn(process.execPath, ['-e', BARE_SERVER, partsDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<string>((resolve) => child.stdout.once('data', (data: Buffer) => resolve(data.toString().trim())));
    const client = new WharfClient({ url: `http://127.0.0.1:${port}` });
    const start = process.hrtime.bigint();
    await sendParts(file, size, PART_SIZE, (number, body) => client.http.sendBytes('PUT', `/parts/${number}`, body));
    return seconds(start);
  } finally {
    child.kill();
    await rm(partsDir, { recursive: true, force: true });
  }
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
  }, 120_000, { compiled: true });
}

async function rssOfPid(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc/{pid}/stat. */
async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at index 2 of the split.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
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

/**
 * The fair baseline: the file straight to S3 as one multipart upload, CONCURRENCY parts of
 * PART_SIZE at a time, through the S3 calls the registry itself makes (streamed parts,
 * UNSIGNED-PAYLOAD), with no Wharf in between.
 */
async function directMultipart(target: { endpoint: string; accessKey: string; secretKey: string }, file: string, size: number): Promise<number> {
  const store = new S3ArtifactStore({ ...target, bucket: `bench-multipart-${randomUUID().slice(0, 8)}`, region: 'us-east-1' });
  await store.init();
  const start = process.hrtime.bigint();
  const uploadId = await store.createMultipart('model.bin');
  const parts: { number: number; size: number; etag: string }[] = [];
  await sendParts(file, size, PART_SIZE, async (number, body) => {
    const { etag } = await store.uploadPart('model.bin', uploadId, { number, offset: (number - 1) * PART_SIZE, size: body.length }, Readable.from([body]));
    parts.push({ number, size: body.length, etag });
  });
  await store.completeMultipart('model.bin', uploadId, parts.sort((a, b) => a.number - b.number));
  const time = seconds(start);
  // A test store may be small (Ceph's memstore): the baselines' copies make room for Wharf's.
  await store.delete('model.bin');
  return time;
}

/** Direct uploads to S3 vs Wharf in front of the same S3 endpoint, and `wharf push` vs Wharf. */
async function benchS3(target: { endpoint: string; accessKey: string; secretKey: string }, dir: string, file: string, sha256: string, registries: RegistryProcess[]) {
  const url = new URL(target.endpoint);
  const minio = new Minio.Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey: target.accessKey, secretKey: target.secretKey, region: 'us-east-1', pathStyle: true });
  const bucket = `bench-direct-${randomUUID().slice(0, 8)}`;
  await minio.makeBucket(bucket, 'us-east-1');
  let start = process.hrtime.bigint();
  await minio.fPutObject(bucket, 'model.bin', file);
  const sequential = seconds(start);
  await minio.removeObject(bucket, 'model.bin');
  const direct = await directMultipart(target, file, SIZE);

  const s3Registry = await registry(path.join(dir, 'registry-s3'), {
    S3_ENDPOINT: target.endpoint,
    S3_ACCESS_KEY: target.accessKey,
    S3_SECRET_KEY: target.secretKey,
    S3_BUCKET: `bench-wharf-${randomUUID().slice(0, 8)}`,
  });
  registries.push(s3Registry);
  let wharf = 0;
  let phases = { parts: 0, complete: 0 };
  const registryCpu = await cpuSecondsOf(s3Registry.child.pid!);
  const clientCpu = process.cpuUsage();
  const peakRss = await peakRssOf(s3Registry, async () => {
    start = process.hrtime.bigint();
    phases = await wharfUpload(s3Registry.url, file, SIZE, sha256);
    wharf = seconds(start);
  });
  const clientUsed = process.cpuUsage(clientCpu);
  const cpu = { registry: (await cpuSecondsOf(s3Registry.child.pid!)) - registryCpu, client: (clientUsed.user + clientUsed.system) / 1e6 };
  // What a user runs, hashing included, against the same registry and store.
  const pushed = await wharfPush(s3Registry.url, file, dir);
  return { sequential, direct, wharf, phases, cpu, peakRss, push: pushed.hashing + pushed.afterHashing, pushHashing: pushed.hashing };
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
    // cp's time varies by half from one run to the next here (page cache): the median of three.
    const cpTimes: number[] = [];
    for (let run = 0; run < 3; run++) {
      start = process.hrtime.bigint();
      execFileSync('cp', [file, path.join(dir, 'copy.bin')]);
      cpTimes.push(seconds(start));
      await rm(path.join(dir, 'copy.bin'));
    }
    const cp = cpTimes.sort((a, b) => a - b)[1];
    // The same copy with the checks Wharf makes before a file is visible: its sha256, on disk.
    start = process.hrtime.bigint();
    execFileSync('sh', ['-c', 'cp "$1" "$2" && sha256sum "$2" >/dev/null && sync "$2"', 'sh', file, path.join(dir, 'copy.bin')]);
    const verifiedCp = seconds(start);
    await rm(path.join(dir, 'copy.bin'));
    const bare = await bareServerUpload(dir, file, SIZE);
    const fsRegistry = await registry(path.join(dir, 'registry-fs'));
    registries.push(fsRegistry);
    const idleRss = await rssOf(fsRegistry, 'VmRSS');
    let wharfFs = 0;
    let fsPhases = { parts: 0, complete: 0 };
    const fsDatabase = await embeddedDatabasePid(fsRegistry);
    const cpuBefore = { registry: await cpuSecondsOf(fsRegistry.child.pid!), database: fsDatabase ? await cpuSecondsOf(fsDatabase) : 0, client: process.cpuUsage() };
    const fsRss = await peakRssOf(fsRegistry, async () => {
      start = process.hrtime.bigint();
      fsPhases = await wharfUpload(fsRegistry.url, file, SIZE, sha256);
      wharfFs = seconds(start);
    });
    const clientCpu = process.cpuUsage(cpuBefore.client);
    const fsCpu = {
      registry: (await cpuSecondsOf(fsRegistry.child.pid!)) - cpuBefore.registry,
      database: fsDatabase ? (await cpuSecondsOf(fsDatabase)) - cpuBefore.database : 0,
      client: (clientCpu.user + clientCpu.system) / 1e6,
    };
    // What a user runs: the CLI's push, with a checksum on every part.
    const pushed = await wharfPush(fsRegistry.url, file, dir);

    if (WITH_S3) rows.push(['S3 endpoint', external ? `${target.endpoint} (external)` : 's3rver (in the bench process)']);
    rows.push(['file', `${(SIZE / MIB).toFixed(0)} MiB; client sha256 ${hashTime.toFixed(2)} s (${rate(SIZE, hashTime)}), not counted below`]);
    if (s3Result) {
      const { sequential, direct, wharf, phases } = s3Result;
      rows.push(['direct minio fPutObject (1 part at a time)', `${sequential.toFixed(2)} s  ${rate(SIZE, sequential)}  (for reference only)`]);
      rows.push([`direct parallel multipart (${CONCURRENCY} × ${PART_SIZE / MIB} MiB)`, `${direct.toFixed(2)} s  ${rate(SIZE, direct)}  (the baseline)`]);
      rows.push(['Wharf → S3, until ready', `${wharf.toFixed(2)} s  ${rate(SIZE, wharf)}  = ${(direct / wharf).toFixed(2)}× direct parallel multipart (target ≥ 0.9)`]);
      rows.push(['  of which', `parts ${phases.parts.toFixed(2)} s, complete + commit ${phases.complete.toFixed(2)} s`]);
      rows.push(['  CPU used', `registry ${s3Result.cpu.registry.toFixed(2)} s, client ${s3Result.cpu.client.toFixed(2)} s (2 cores: ${(2 * wharf).toFixed(2)} s available)`]);
      rows.push([
        'wharf push → S3, hashing included',
        `${s3Result.push.toFixed(2)} s  ${rate(SIZE, s3Result.push)}  = ${(s3Result.push / wharf).toFixed(2)}× the registry's own upload above (target ≤ 1.2; hashing ${s3Result.pushHashing.toFixed(2)} s)`,
      ]);
    }
    rows.push(['cp (same disk), median of 3', `${cp.toFixed(2)} s  ${rate(SIZE, cp)}  (runs: ${cpTimes.map((time) => time.toFixed(2)).join(', ')} s)`]);
    rows.push(['cp + sha256sum + sync', `${verifiedCp.toFixed(2)} s  ${rate(SIZE, verifiedCp)}`]);
    rows.push(['bare Node HTTP server, write + fsync', `${bare.toFixed(2)} s  ${rate(SIZE, bare)}  = ${(cp / bare).toFixed(2)}× cp (no auth, database or sha256: the floor)`]);
    rows.push(['Wharf → fs, until ready', `${wharfFs.toFixed(2)} s  ${rate(SIZE, wharfFs)}  = ${(cp / wharfFs).toFixed(2)}× cp (target ≥ 0.6), ${(verifiedCp / wharfFs).toFixed(2)}× verified cp, ${(bare / wharfFs).toFixed(2)}× the bare server`]);
    rows.push(['  of which', `parts ${fsPhases.parts.toFixed(2)} s, complete + commit ${fsPhases.complete.toFixed(2)} s`]);
    rows.push(['  CPU used', `registry ${fsCpu.registry.toFixed(2)} s, client ${fsCpu.client.toFixed(2)} s${fsDatabase ? `, embedded database ${fsCpu.database.toFixed(2)} s` : ''} (2 cores: ${(2 * wharfFs).toFixed(2)} s available)`]);
    rows.push(['wharf push → fs, after hashing', `${pushed.afterHashing.toFixed(2)} s  ${rate(SIZE, pushed.afterHashing)}  = ${(cp / pushed.afterHashing).toFixed(2)}× cp (every part with its sha256; hashing took ${pushed.hashing.toFixed(2)} s before)`]);
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
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:upload failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
