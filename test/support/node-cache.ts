import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import supertest from 'supertest';
import { uploadFile } from './artifacts';
import { listeningPort, startChild } from './child-process';
import { ADMIN_TOKEN, bearer } from './test-registry';

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Bytes that differ per seed (cheap to make, incompressible enough for a test). */
export function bytes(size: number, seed: number): Buffer {
  const data = Buffer.allocUnsafe(size);
  let state = seed * 2654435761 + 1;
  for (let i = 0; i < size; i += 4) {
    state = (state * 1103515245 + 12345) >>> 0;
    data.writeUInt32LE(state, i);
  }
  return data.subarray(0, size);
}

/** A new committed version of `project/model` holding these files; returns its number. */
export async function publishVersion(url: string, project: string, model: string, files: { path: string; data: Buffer }[]): Promise<number> {
  const http = supertest(url);
  const versions = `/api/v1/projects/${project}/models/${model}/versions`;
  const created = await http.post(versions).set(bearer(ADMIN_TOKEN)).send({});
  if (created.status !== 201) throw new Error(`create version: ${created.status} ${JSON.stringify(created.body)}`);
  const number = created.body.number as number;
  for (const file of files) await uploadFile(url, `${versions}/${number}`, file.path, file.data);
  const committed = await http.post(`${versions}/${number}/commit`).set(bearer(ADMIN_TOKEN));
  if (committed.status !== 200) throw new Error(`commit: ${committed.status} ${JSON.stringify(committed.body)}`);
  return number;
}

/** A token of a `node-agent` principal, made by the platform admin. */
export async function nodeAgentToken(url: string, principal = 'node-agents'): Promise<string> {
  const created = await supertest(url).post('/api/v1/tokens').set(bearer(ADMIN_TOKEN)).send({ name: 'agents', principal, principalKind: 'node-agent' });
  if (created.status !== 201) throw new Error(`agent token: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.token as string;
}

/** A JSON answer of the agent's local API, read loosely the way supertest's `body` is. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AgentAnswer = { status: number; body: any };

export interface AgentProcess {
  name: string;
  url: string;
  cacheDir: string;
  child: ChildProcess;
  output: string[];
  env: Record<string, string>;
  kill(): Promise<void>;
  stop(): Promise<void>;
  get(pathAndQuery: string): Promise<AgentAnswer>;
  send(method: string, pathAndQuery: string, body?: unknown): Promise<AgentAnswer>;
  /** A counter or gauge from /metrics (summed over labels). */
  metric(name: string): Promise<number>;
}

/** Runs the node agent as a real child process (`node-agent/main.ts` through swc). */
export async function startAgent(env: Record<string, string>, timeoutMs = 30_000): Promise<AgentProcess> {
  const cacheDir = env.CACHE_DIR ?? (await mkdtemp(path.join(tmpdir(), 'wharf-agent-')));
  const fullEnv: Record<string, string> = { AGENT_PORT: '0', AGENT_HOST: '127.0.0.1', HEARTBEAT_INTERVAL: '200ms', HEARTBEAT_MAX_BACKOFF: '2s', CHUNK_SIZE: '256Ki', LOG_LEVEL: 'info', ...env, CACHE_DIR: cacheDir };
  const started = await startChild({
    name: 'agent',
    args: ['-r', '@swc-node/register', 'node-agent/main.ts'],
    env: fullEnv,
    ready: listeningPort('wharf node agent listening'),
    timeoutMs,
  });
  const { child, output, ready: port } = started;
  const url = `http://127.0.0.1:${port}`;
  const send = async (method: string, pathAndQuery: string, body?: unknown): Promise<AgentAnswer> => {
    const response = await fetch(url + pathAndQuery, { method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text ? (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) : undefined };
  };
  return {
    name: fullEnv.NODE_NAME,
    url,
    cacheDir,
    child,
    output,
    env: fullEnv,
    kill: started.kill,
    stop: started.stop,
    get: (pathAndQuery) => send('GET', pathAndQuery),
    send,
    async metric(name) {
      const text = (await send('GET', '/metrics')).body as string;
      return text
        .split('\n')
        .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
        .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
    },
  };
}

/** Kept here too for the tests that import it from the node-cache kit; the helper lives in ./eventually. */
export { eventually } from './eventually';

/** The state of a version on an agent, from its own list (never asks for it, so no pull starts). */
export async function localState(agent: AgentProcess, key: string): Promise<string | undefined> {
  const list = await agent.get('/v1/versions');
  const entry = (list.body.items as { project: string; model: string; version: number; state: string }[]).find((item) => `${item.project}/${item.model}@${item.version}` === key);
  return entry?.state;
}
