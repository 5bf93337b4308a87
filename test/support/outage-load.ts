import { randomBytes } from 'node:crypto';
import supertest from 'supertest';
import { binary, sha256 } from './artifacts';
import { ADMIN_TOKEN, bearer } from './test-registry';

export interface Acknowledged {
  path: string;
  sha256: string;
}

/** One answer the load got that an outage must never cause. */
export interface Unexpected {
  op: string;
  status: number;
  body: unknown;
  retryAfter?: string;
}

export interface LoadReport {
  /** `op status code` → how many, e.g. `form 503 storage_unavailable`. */
  answers: Map<string, number>;
  acknowledged: Acknowledged[];
  unexpected: Unexpected[];
}

export interface Load {
  report: LoadReport;
  /** How many answers with this status the load got so far (any op). */
  count(status: number): number;
  stop(): Promise<LoadReport>;
}

const FILE_BYTES = 48 * 1024;

/**
 * Clients working on one draft (`versionPath` ends in its number) while a dependency goes away and comes back: form uploads,
 * upload sessions (create, one part PUT, complete) and downloads of what was acknowledged.
 * Every answer must be a success or a 503 carrying Retry-After and one of `unavailableCodes`;
 * a download that answers 200 must carry the bytes that were acknowledged.
 */
export function startLoad(url: string, versionPath: string, unavailableCodes: string[], workers = 3): Load {
  const http = supertest(url);
  const report: LoadReport = { answers: new Map(), acknowledged: [], unexpected: [] };
  let stopped = false;
  let serial = 0;

  const record = (op: string, response: supertest.Response, ok: number[]): boolean => {
    const body: unknown = Buffer.isBuffer(response.body) && response.status >= 300 ? parsed(response.body) : response.body;
    const code = (body as { code?: string } | undefined)?.code ?? '';
    const key = `${op} ${response.status}${code ? ` ${code}` : ''}`;
    report.answers.set(key, (report.answers.get(key) ?? 0) + 1);
    if (ok.includes(response.status)) return true;
    const unavailable = response.status === 503 && unavailableCodes.includes(code) && /^[0-9]+$/.test(response.headers['retry-after'] ?? '');
    if (!unavailable) report.unexpected.push({ op, status: response.status, body, retryAfter: response.headers['retry-after'] });
    return false;
  };

  const form = async () => {
    const data = randomBytes(FILE_BYTES);
    const path = `load-form-${serial++}.bin`;
    const response = await http.post(`${versionPath}/files`).set(bearer(ADMIN_TOKEN)).attach('file', data, { filename: path, contentType: 'application/octet-stream' });
    if (record('form', response, [201])) report.acknowledged.push({ path, sha256: sha256(data) });
    return response.status;
  };

  const session = async () => {
    const data = randomBytes(FILE_BYTES);
    const path = `load-session-${serial++}.bin`;
    const created = await http.post(`${versionPath}/uploads`).set(bearer(ADMIN_TOKEN)).send({ path, size: data.length, sha256: sha256(data) });
    if (!record('create', created, [201])) return created.status;
    const id = (created.body as { id: string }).id;
    const part = await http.put(`/api/v1/uploads/${id}/parts/1`).set(bearer(ADMIN_TOKEN)).set('Content-Type', 'application/octet-stream').send(data);
    if (!record('part', part, [200])) return part.status;
    const completed = await http.post(`/api/v1/uploads/${id}/complete`).set(bearer(ADMIN_TOKEN));
    if (record('complete', completed, [200])) report.acknowledged.push({ path, sha256: sha256(data) });
    return completed.status;
  };

  const download = async () => {
    const file = report.acknowledged[Math.floor(Math.random() * report.acknowledged.length)];
    if (!file) return form();
    const response = await binary(http.get(`${versionPath}/files/${file.path}`).set(bearer(ADMIN_TOKEN)));
    if (record('download', response, [200]) && sha256(response.body as Buffer) !== file.sha256) {
      report.unexpected.push({ op: 'download', status: 200, body: `bytes of ${file.path} differ from what was acknowledged` });
    }
    return response.status;
  };

  const ops = [form, session, download];
  const running = Array.from({ length: workers }, async (_, worker) => {
    for (let round = worker; !stopped; round++) {
      const status = await ops[round % ops.length]().catch((error: Error) => {
        report.unexpected.push({ op: 'request', status: 0, body: error.message });
        return 0;
      });
      // A client told to come back later does not hammer the registry meanwhile.
      if (status === 503 || status === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  return {
    report,
    count: (status) => [...report.answers].filter(([key]) => key.split(' ')[1] === String(status)).reduce((sum, [, n]) => sum + n, 0),
    async stop() {
      stopped = true;
      await Promise.all(running);
      return report;
    },
  };
}

/** A problem document read as bytes (downloads are read as bytes). */
function parsed(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return bytes.toString('utf8').slice(0, 200);
  }
}
