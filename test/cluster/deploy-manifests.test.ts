// Every object that deploy/ renders (the base and each overlay, through kustomize) is accepted by a
// real kube-apiserver: a server-side apply in dry-run mode runs the same decoding, defaulting,
// schema and admission checks as a real apply, and refuses fields the API does not know.
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import * as path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { findKustomize, renderKustomization } from '../support/kustomize';
import { useCluster } from '../support/cluster';

const ROOT = path.resolve(__dirname, '../..');
// deploy/scheduler last: it has no Namespace of its own and lands in the one base applied.
const KUSTOMIZATIONS = ['deploy/base', ...readdirSync(path.join(ROOT, 'deploy/overlays')).map((name) => `deploy/overlays/${name}`), 'deploy/scheduler'];
const FIELD_MANAGER = 'wharf-deploy-test';

const cluster = useCluster('deploy');
const kustomize = findKustomize();
const createdNamespaces: string[] = [];

function rendered(dir: string): KubernetesObject[] {
  if (!kustomize) throw new Error('kustomize is needed to render deploy/: run scripts/kustomize.sh (needs Go) or set KUSTOMIZE');
  return parseAllDocuments(renderKustomization(kustomize, path.join(ROOT, dir)))
    .map((document) => document.toJS() as KubernetesObject)
    .filter(Boolean);
}

/** The REST path of OBJECT, from the apiserver's own discovery (kind → resource, namespaced or not). */
async function pathOf(object: KubernetesObject): Promise<string> {
  const base = object.apiVersion === 'v1' ? '/api/v1' : `/apis/${object.apiVersion}`;
  const discovery = await cluster.get(base);
  if (discovery.status !== 200) throw new Error(`GET ${base} answered ${discovery.status}`);
  const resources = (JSON.parse(discovery.body) as { resources: { name: string; kind: string; namespaced: boolean }[] }).resources;
  const resource = resources.find((candidate) => candidate.kind === object.kind && !candidate.name.includes('/'));
  if (!resource) throw new Error(`${object.apiVersion} has no kind ${object.kind}`);
  const scope = resource.namespaced ? `/namespaces/${object.metadata?.namespace ?? 'default'}` : '';
  return `${base}${scope}/${resource.name}/${object.metadata?.name}`;
}

/**
 * Server-side apply with strict field validation; with dryRun nothing is stored. Sent as raw JSON:
 * the typed client would serialise through its models and silently drop a field they lack, which is
 * exactly the mistake this test is for. Resolves to the apiserver's refusal, if any.
 */
async function apply(object: KubernetesObject, dryRun?: 'All'): Promise<string | undefined> {
  const query = new URLSearchParams({ fieldManager: FIELD_MANAGER, force: 'true', fieldValidation: 'Strict' });
  if (dryRun) query.set('dryRun', dryRun);
  const { server, ca, admin } = cluster.info;
  const response = await requestJson(`${server}${await pathOf(object)}?${query}`, JSON.stringify(object), { ca: ca.cert, ...admin });
  return response.status === 200 || response.status === 201 ? undefined : `${object.kind} ${object.metadata?.name}: ${response.status} ${response.body}`;
}

function requestJson(url: string, body: string, tls: { ca: string; cert: string; key: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/apply-patch+yaml', accept: 'application/json' },
        ca: readFileSync(tls.ca),
        cert: readFileSync(tls.cert),
        key: readFileSync(tls.key),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A dry run of a namespaced object needs its namespace to exist: those are applied for real. */
async function ensureNamespaces(objects: KubernetesObject[]): Promise<void> {
  for (const namespace of objects.filter((object) => object.kind === 'Namespace')) {
    const name = namespace.metadata!.name!;
    const exists = await cluster.core.readNamespace({ name }).then(() => true, () => false);
    if (!exists) createdNamespaces.push(name);
    expect(await apply(namespace)).toBeUndefined();
  }
}

afterAll(async () => {
  for (const name of createdNamespaces) await cluster.core.deleteNamespace({ name }).catch(() => undefined);
});

describe.each(KUSTOMIZATIONS)('kustomize build %s', (dir) => {
  it('renders objects that the apiserver accepts in a server-side dry run', async () => {
    const objects = rendered(dir);
    expect(objects.length).toBeGreaterThan(0);

    await ensureNamespaces(objects);
    const refusals = [];
    for (const object of objects.filter((candidate) => candidate.kind !== 'Namespace')) {
      const refusal = await apply(object, 'All');
      if (refusal) refusals.push(refusal);
    }
    expect(refusals).toEqual([]);
  });
});

describe('the dry run itself', () => {
  it('refuses an object with a field the API does not know, so the check above can fail', async () => {
    const namespace = cluster.namespace;
    const refusal = await apply(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'typo', namespace }, data: { a: 'b' }, datta: { a: 'b' } } as KubernetesObject,
      'All',
    );
    expect(refusal).toMatch(/datta/);
  });

  it('stores nothing', async () => {
    const objects = rendered('deploy/base');
    const deployment = objects.find((object) => object.kind === 'Deployment')!;
    await ensureNamespaces(objects);
    expect(await apply(deployment, 'All')).toBeUndefined();
    const stored = await cluster.apps
      .readNamespacedDeployment({ name: deployment.metadata!.name!, namespace: deployment.metadata!.namespace! })
      .then(() => true, () => false);
    expect(stored).toBe(false);
  });
});
