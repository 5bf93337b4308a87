// The shape both outage tests share (test/outages/): files stored before the outage, an upload
// session left open across it, a load that runs throughout, and after recovery every acknowledged
// file read back by its sha256.
import { randomBytes } from 'node:crypto';
import supertest from 'supertest';
import { binary, draft, sha256 } from './artifacts';
import { expectProblem } from './fixtures';
import { eventually } from './eventually';
import { Load, LoadReport, startLoad } from './outage-load';
import { ADMIN_TOKEN, bearer } from './test-registry';

const admin = bearer(ADMIN_TOKEN);

export interface OutageScenario {
  http: ReturnType<typeof supertest>;
  /** The draft version's API path, `…/versions/1`. */
  version: string;
  before: Buffer;
  /** A part whose session is open across the outage: sent while down, and again after. */
  pending: Buffer;
  uploadId: string;
  load: Load;
}

/** Stores a file, opens an upload session, checks readiness, and starts a load that has stored files. */
export async function beginOutageScenario(registryUrl: string, project: string, unavailableCode: string): Promise<OutageScenario> {
  const http = supertest(registryUrl);
  const version = `${await draft(registryUrl, project)}/1`;
  const before = randomBytes(64 * 1024);
  await http.post(`${version}/files`).set(admin).attach('file', before, { filename: 'before.bin' }).expect(201);
  const pending = randomBytes(32 * 1024);
  const upload = await http.post(`${version}/uploads`).set(admin).send({ path: 'pending.bin', size: pending.length, sha256: sha256(pending) }).expect(201);
  await http.get('/readyz').expect(200);

  const load = startLoad(registryUrl, version, [unavailableCode]);
  await eventually(() => load.report.acknowledged.length >= 3, 'the load has stored files');
  return { http, version, before, pending, uploadId: upload.body.id, load };
}

/** The pending part sent while the service is down. */
export function sendPendingPart(scenario: OutageScenario) {
  return scenario.http.put(`/api/v1/uploads/${scenario.uploadId}/parts/1`).set(admin).set('Content-Type', 'application/octet-stream').send(scenario.pending);
}

/** Every answer is 503 with Retry-After; those named in PROBLEMS also carry the problem CODE. */
export function expectAllUnavailable(whileDown: Record<string, supertest.Response>, code: string, exceptProblem: string[] = []): void {
  for (const [name, response] of Object.entries(whileDown)) {
    expect({ name, status: response.status, retryAfter: response.headers['retry-after'] }).toEqual({ name, status: 503, retryAfter: '5' });
    if (!exceptProblem.includes(name)) expectProblem(response as never, 503, code);
  }
}

/**
 * After the service is back: readiness returns, the load stores again and met nothing unexpected,
 * the pending session completes, and every acknowledged file reads back with its sha256.
 */
export async function finishOutageScenario(scenario: OutageScenario, recoveryTimeoutMs: number): Promise<LoadReport> {
  const { http, load, version } = scenario;
  await eventually(async () => (await http.get('/readyz')).status === 200, 'readiness reports the service back', recoveryTimeoutMs);
  const acknowledgedAtRecovery = load.report.acknowledged.length;
  await eventually(() => load.report.acknowledged.length >= acknowledgedAtRecovery + 3, 'the load stores files again', recoveryTimeoutMs);
  const report = await load.stop();

  expect(report.unexpected).toEqual([]);
  await sendPendingPart(scenario).expect(200);
  await http.post(`/api/v1/uploads/${scenario.uploadId}/complete`).set(admin).expect(200);
  const files = [...report.acknowledged, { path: 'before.bin', sha256: sha256(scenario.before) }, { path: 'pending.bin', sha256: sha256(scenario.pending) }];
  for (const file of files) {
    const response = await binary(http.get(`${version}/files/${file.path}`).set(admin)).expect(200);
    expect({ path: file.path, sha256: sha256(response.body as Buffer) }).toEqual(file);
  }
  return report;
}
