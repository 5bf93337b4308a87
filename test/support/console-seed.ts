// Seeds a registry through its public API the way people fill it: a project, a model with
// versions (files and metrics), a tag, an endpoint, an editor and a viewer with tokens. Used by the
// console's browser tests and by `npm run docs:screenshots`.
import { ADMIN_TOKEN } from './test-registry';

export interface ConsoleSeed {
  project: string;
  model: string;
  endpoint: string;
  editorToken: string;
  viewerToken: string;
}

export class SeedClient {
  constructor(
    readonly url: string,
    readonly token = ADMIN_TOKEN,
  ) {}

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token = this.token): Promise<T> {
    const response = await fetch(`${this.url}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** A committed version with one file per entry of `files` and `metadata` (metrics included). */
  async pushVersion(project: string, model: string, metadata: Record<string, unknown>, files: Record<string, string>, description = ''): Promise<number> {
    const base = `/projects/${project}/models/${model}/versions`;
    const { number } = await this.call<{ number: number }>('POST', base, { description, metadata });
    const form = new FormData();
    for (const [name, content] of Object.entries(files)) form.append('file', new Blob([content]), name);
    const upload = await fetch(`${this.url}/api/v1${base}/${number}/files`, { method: 'POST', headers: { Authorization: `Bearer ${this.token}` }, body: form });
    if (!upload.ok) throw new Error(`upload answered ${upload.status}: ${await upload.text()}`);
    await this.call('POST', `${base}/${number}/commit`);
    return number;
  }

  async tokenFor(principal: string, project: string, extra: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
    return this.call<{ id: string; token: string }>('POST', '/tokens', { name: `${principal}-console`, principal, project, ...extra });
  }
}

export async function seedConsole(client: SeedClient, project = 'vision'): Promise<ConsoleSeed> {
  const model = 'resnet50';
  await client.call('POST', '/projects', { name: project, description: 'Image models' });
  await client.call('POST', `/projects/${project}/models`, { name: model, description: 'ResNet-50 classifier', labels: { task: 'classification', team: 'vision' } });
  await client.call('POST', `/projects/${project}/models`, { name: 'yolo', description: 'Object detector', labels: { task: 'detection' } });
  const runs = [
    { top1: 0.761, latencyMs: 41, framework: 'pytorch', gitSha: '3f2c9e1' },
    { top1: 0.774, latencyMs: 44, framework: 'pytorch', gitSha: '8a1b0c2' },
  ];
  for (const [index, run] of runs.entries()) {
    await client.pushVersion(
      project,
      model,
      { framework: run.framework, gitSha: run.gitSha, metrics: { top1: run.top1, latencyMs: run.latencyMs } },
      { 'config.json': `{"architecture":"resnet50","run":${index + 1}}`, 'model.bin': `weights-${index + 1}-`.repeat(500) },
      `training run ${index + 1}`,
    );
  }
  await client.call('PUT', `/projects/${project}/models/${model}/tags/prod`, { version: 1, reason: 'first release' });
  const endpoint = 'classifier';
  await client.call('PUT', `/projects/${project}/endpoints/${endpoint}`, {
    description: 'Public classifier',
    routes: [{ ref: `${model}:prod`, weight: 90 }, { ref: `${model}@2`, weight: 10 }],
    stickyHeader: 'X-User-Id',
  });
  await client.call('PUT', `/projects/${project}/members/alice`, { role: 'editor' });
  await client.call('PUT', `/projects/${project}/members/victor`, { role: 'viewer' });
  const editorToken = (await client.tokenFor('alice', project)).token;
  const viewerToken = (await client.tokenFor('victor', project)).token;
  return { project, model, endpoint, editorToken, viewerToken };
}
