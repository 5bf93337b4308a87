// The operator end to end: a real registry process (embedded database: the shared Postgres is
// outside this network namespace) with a model, the operator as a real child process, the CRD from
// deploy/, the admission webhooks served by the operator, and pods bound to kwok nodes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import supertest from 'supertest';
import { parse } from 'yaml';
import { apiError, useCluster, waitFor } from '../support/cluster';
import { startOperatorProcess, type OperatorProcess } from '../support/operator-process';
import { startRegistryProcess, type RegistryProcess } from '../support/registry-process';
import { auth, seedModel } from '../support/release-fixtures';
import { ADMIN_TOKEN } from '../support/test-registry';

const cluster = useCluster('operator');
const ROOT = path.resolve(__dirname, '../..');
const GROUP = 'wharf.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'modeldeployments';
const IMAGE = 'ghcr.io/acme/model-server:1.2';

let registry: RegistryProcess;
let operator: OperatorProcess | undefined;
let operatorEnv: Record<string, string>;
let workDir: string;
const webhookName = () => `wharf-operator-${cluster.namespace}`;
const pool = () => ({ 'wharf.test/pool': cluster.namespace });

async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Md {
  metadata: { name: string; uid: string; generation: number; labels?: Record<string, string> };
  spec: Record<string, unknown> & { model?: string };
  status?: { observedGeneration?: number; version?: string; conditions?: { type: string; status: string; reason: string }[]; routes?: { name: string; version: number; digest: string }[] };
}

const createMd = (name: string, spec: object) =>
  cluster.custom.createNamespacedCustomObject({
    group: GROUP, version: VERSION, namespace: cluster.namespace, plural: PLURAL,
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ModelDeployment', metadata: { name }, spec },
  }) as Promise<Md>;
const readMd = (name: string) => cluster.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: cluster.namespace, plural: PLURAL, name }) as Promise<Md>;
const condition = (md: Md, type: string) => md.status?.conditions?.find((entry) => entry.type === type);
const readyAt = (version: number) => (md: Md) =>
  condition(md, 'Ready')?.status === 'True' && md.status?.observedGeneration === md.metadata.generation && md.status?.routes?.every((route) => route.version === version) === true;
const readDeployment = (name: string) => cluster.apps.readNamespacedDeployment({ name, namespace: cluster.namespace });
const runtimeOf = (deployment: V1Deployment) => deployment.spec!.template.spec!.containers.find((container) => container.name === 'runtime')!;
const referenceOf = (deployment: V1Deployment) => deployment.spec!.template.metadata!.annotations!['wharf.dev/model-reference'];

async function startOperator(): Promise<void> {
  operator = await startOperatorProcess(operatorEnv);
}

/** Moves the tag in the registry, as `wharf tag` would. */
async function moveTag(tag: string, version: number): Promise<void> {
  await supertest(registry.url).put(`/api/v1/projects/${cluster.namespace}/models/m/tags/${tag}`).set(auth).send({ version, reason: 'test' }).expect(200);
}

beforeAll(async () => {
  const { hostAddress, ca } = cluster.info;
  workDir = mkdtempSync(path.join(tmpdir(), 'wharf-operator-test-'));
  registry = await startRegistryProcess({ DATA_DIR: workDir, WEBHOOK_POLL_INTERVAL_MS: '100', WEBHOOK_SECRET_KEY: 'k'.repeat(40) }, 90_000);
  await seedModel(supertest(registry.url), cluster.namespace, 'm', 2);
  await moveTag('prod', 1);

  // The CRD exactly as deploy/ ships it.
  const crd = parse(readFileSync(path.join(ROOT, 'deploy/base/operator/modeldeployment-crd.yaml'), 'utf8'));
  await cluster.extensions.createCustomResourceDefinition({ body: crd }).catch((error) => {
    if (apiError(error).code !== 409) throw error;
  });
  await waitFor('the ModelDeployment CRD Established', () => cluster.extensions.readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` }),
    (found) => found.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false);

  // The webhook configurations as deploy/ ships them, pointed at the operator this test runs and
  // limited to this file's namespace; no caBundle: the operator writes it.
  const webhookPort = await freePort(hostAddress);
  const hooks = parse(readFileSync(path.join(ROOT, 'deploy/base/operator/webhooks.yaml'), 'utf8').split('\n---\n')[0]);
  const validating = parse(readFileSync(path.join(ROOT, 'deploy/base/operator/webhooks.yaml'), 'utf8').split('\n---\n')[1]);
  for (const config of [hooks, validating]) {
    config.metadata.name = webhookName();
    for (const hook of config.webhooks) {
      hook.clientConfig = { url: `https://${hostAddress}:${webhookPort}${hook.clientConfig.service.path}` };
      hook.namespaceSelector = { matchLabels: { 'kubernetes.io/metadata.name': cluster.namespace } };
    }
  }
  await cluster.admission.createMutatingWebhookConfiguration({ body: hooks });
  await cluster.admission.createValidatingWebhookConfiguration({ body: validating });

  const tls = cluster.servingCert({ ips: [hostAddress] });
  writeFileSync(path.join(workDir, 'tls.crt'), tls.cert);
  writeFileSync(path.join(workDir, 'tls.key'), tls.key);
  const httpPort = await freePort('127.0.0.1');
  operatorEnv = {
    KUBECONFIG: cluster.info.kubeconfig,
    WATCH_NAMESPACE: cluster.namespace,
    REGISTRY_URL: registry.url,
    WHARF_TOKEN: ADMIN_TOKEN,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(httpPort),
    EVENTS_URL: `http://127.0.0.1:${httpPort}/events`,
    WEBHOOK_HOST: hostAddress,
    WEBHOOK_PORT: String(webhookPort),
    WEBHOOK_CERT_FILE: path.join(workDir, 'tls.crt'),
    WEBHOOK_KEY_FILE: path.join(workDir, 'tls.key'),
    WEBHOOK_CA_FILE: ca.cert,
    WEBHOOK_CONFIGURATION_NAME: webhookName(),
    // Far beyond the test: a tag move seen within seconds came by the registry's events.
    RESOLVE_INTERVAL_MS: '600000',
    // Short leases, so a replacement after kill -9 takes over in seconds.
    LEASE_DURATION_MS: '3000',
    RENEW_DEADLINE_MS: '2000',
    RETRY_PERIOD_MS: '300',
  };
  await cluster.addNodes([{ name: `${cluster.namespace}-a`, labels: pool() }, { name: `${cluster.namespace}-b`, labels: pool() }]);
  await startOperator();
}, 180_000);

afterAll(async () => {
  await operator?.kill();
  await cluster.admission.deleteMutatingWebhookConfiguration({ name: webhookName() }).catch(() => undefined);
  await cluster.admission.deleteValidatingWebhookConfiguration({ name: webhookName() }).catch(() => undefined);
  await registry?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

afterEach(() => {
  const failed = (expect.getState() as { assertionCalls?: number; suppressedErrors?: unknown[] }).suppressedErrors?.length;
  if (failed && operator) console.log(operator.output.slice(-40).join('\n'));
});

const spec = (extra: object = {}) => ({ model: 'm:prod', runtime: { image: IMAGE }, replicas: 2, nodeSelector: pool(), ...extra });

describe('a ModelDeployment', () => {
  it('writes the caBundle into its webhook configurations', async () => {
    const caBundle = Buffer.from(readFileSync(cluster.info.ca.cert)).toString('base64');
    const validating = await cluster.admission.readValidatingWebhookConfiguration({ name: webhookName() });
    const mutating = await cluster.admission.readMutatingWebhookConfiguration({ name: webhookName() });
    const bundles = [...validating.webhooks!, ...mutating.webhooks!].map((hook) => hook.clientConfig.caBundle);
    expect(bundles).toHaveLength(3);
    expect(bundles.every((bundle) => bundle === caBundle)).toBe(true);
  });

  it('on p/m:prod becomes a Deployment and a Service, pods on kwok nodes, status Ready with version and digest', async () => {
    const created = await createMd('serve', spec());
    // Defaulted by the mutating webhook before it was stored.
    expect(created.spec).toMatchObject({ model: `${cluster.namespace}/m:prod`, executor: { mode: 'sync', concurrency: 8 }, cache: { policy: 'prefer' } });
    expect(created.metadata.labels).toMatchObject({ 'wharf.dev/project': cluster.namespace, 'wharf.dev/model': 'm' });

    const md = await waitFor('ModelDeployment serve Ready on version 1', () => readMd('serve'), readyAt(1), 60_000);
    expect(md.status!.routes![0].digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(md.status!.version).toBe(`${cluster.namespace}/m@1`);

    const deployment = await readDeployment('serve-main');
    const runtime = runtimeOf(deployment);
    expect(runtime.image).toBe(IMAGE);
    expect(runtime.volumeMounts).toEqual([expect.objectContaining({ name: 'model-cache', readOnly: true, subPath: `versions/${cluster.namespace}/m/1`, mountPath: '/mnt/models' })]);
    expect(deployment.spec!.template.spec!.volumes).toEqual([{ name: 'model-cache', hostPath: { path: '/var/cache/wharf', type: 'Directory' } }]);
    expect(deployment.spec!.template.spec!.initContainers![0].command!.join(' ')).toContain(`:7070/v1/versions/${cluster.namespace}/m/1?wait=`);
    expect(deployment.spec!.template.metadata!.annotations).toMatchObject({ 'wharf.dev/version-digest': md.status!.routes![0].digest, 'wharf.dev/cache-policy': 'prefer' });
    expect(deployment.metadata!.ownerReferences).toEqual([expect.objectContaining({ kind: 'ModelDeployment', uid: md.metadata.uid, controller: true })]);
    await cluster.core.readNamespacedService({ name: 'serve', namespace: cluster.namespace });

    const pods = await cluster.core.listNamespacedPod({ namespace: cluster.namespace, labelSelector: 'wharf.dev/model-deployment=serve' });
    expect(pods.items.map((pod) => pod.status?.phase)).toEqual(['Running', 'Running']);
    for (const pod of pods.items) expect(pod.spec!.nodeName!.startsWith(cluster.namespace)).toBe(true);
  });

  it('rolls to the new version within 10 s of a tag move in the registry, and back on rollback, with Events', async () => {
    const started = Date.now();
    await moveTag('prod', 2);
    await waitFor('Deployment serve-main on version 2', () => readDeployment('serve-main'), (d) => referenceOf(d) === `${cluster.namespace}/m@2`, 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    await waitFor('ModelDeployment serve Ready on version 2', () => readMd('serve'), readyAt(2), 60_000);

    await supertest(registry.url).post(`/api/v1/projects/${cluster.namespace}/models/m/tags/prod/rollback`).set(auth).send({ reason: 'test' }).expect(200);
    await waitFor('Deployment serve-main back on version 1', () => readDeployment('serve-main'), (d) => referenceOf(d) === `${cluster.namespace}/m@1`, 10_000);
    const events = await waitFor('the VersionChanged Events', () => cluster.core.listNamespacedEvent({ namespace: cluster.namespace, fieldSelector: 'involvedObject.name=serve' }),
      (list) => list.items.filter((event) => event.reason === 'VersionChanged').length >= 2);
    expect(events.items.map((event) => event.message)).toEqual(expect.arrayContaining([expect.stringContaining('moved from @1 to @2'), expect.stringContaining('moved from @2 to @1')]));
  });

  it('restores a Deployment edited or deleted by hand', async () => {
    await cluster.apps.patchNamespacedDeployment({
      name: 'serve-main', namespace: cluster.namespace, fieldManager: 'kubectl-edit',
      body: [{ op: 'replace', path: '/spec/template/spec/containers/1/image', value: 'evil/image:latest' }],
    });
    await waitFor('the runtime image restored', () => readDeployment('serve-main'), (d) => runtimeOf(d).image === IMAGE);
    const before = await readDeployment('serve-main');
    await cluster.apps.deleteNamespacedDeployment({ name: 'serve-main', namespace: cluster.namespace });
    const after = await waitFor('the Deployment made again', () => readDeployment('serve-main'), (d) => d.metadata!.uid !== before.metadata!.uid);
    expect(runtimeOf(after).image).toBe(IMAGE);
  });

  it('splits 90/10 into one Deployment per route with replicas apportioned, and updates the weights in place', async () => {
    await createMd('split', spec({ model: undefined, replicas: 10, traffic: [{ name: 'stable', model: 'm@1', weight: 90 }, { name: 'canary', model: 'm@2', weight: 10 }] }));
    const stable = await waitFor('split-stable with 9 replicas', () => readDeployment('split-stable'), (d) => d.spec!.replicas === 9);
    const canary = await waitFor('split-canary with 1 replica', () => readDeployment('split-canary'), (d) => d.spec!.replicas === 1);
    expect([referenceOf(stable), referenceOf(canary)]).toEqual([`${cluster.namespace}/m@1`, `${cluster.namespace}/m@2`]);

    await cluster.custom.patchNamespacedCustomObject({
      group: GROUP, version: VERSION, namespace: cluster.namespace, plural: PLURAL, name: 'split',
      body: [{ op: 'replace', path: '/spec/traffic/0/weight', value: 50 }, { op: 'replace', path: '/spec/traffic/1/weight', value: 50 }],
    });
    const moved = await waitFor('split-canary with 5 replicas', () => readDeployment('split-canary'), (d) => d.spec!.replicas === 5);
    expect(moved.metadata!.uid).toBe(canary.metadata!.uid);
    expect((await readDeployment('split-stable')).spec!.replicas).toBe(5);
  });

  it.each<[string, object, string]>([
    ['a malformed reference (schema)', { model: 'm' }, 'spec.model'],
    ['weights not summing to 100 (CEL)', { model: undefined, traffic: [{ model: 'm:prod', weight: 90 }, { model: 'm@2', weight: 20 }] }, 'spec.traffic'],
    ['an executor concurrency out of range (schema)', { executor: { concurrency: 5000 } }, 'spec.executor.concurrency'],
    ["another project's model (webhook)", { model: 'elsewhere/m:prod' }, 'spec.model: Invalid value: "elsewhere/m:prod": the project must be the namespace\'s'],
    ['a runtime with an empty image (schema)', { runtime: { image: '' } }, 'spec.runtime.image'],
  ])('refuses %s, naming the field, and stores nothing', async (_what, extra, field) => {
    const refused = await createMd('refused', spec(extra)).then(() => undefined, apiError);
    expect(refused?.code).toBe(422);
    expect(refused?.message).toContain(field);
    expect(await readMd('refused').then(() => 'stored', () => 'absent')).toBe('absent');
  });

  it('refuses a change of model on update (webhook: immutable)', async () => {
    const refused = await cluster.custom.patchNamespacedCustomObject({
      group: GROUP, version: VERSION, namespace: cluster.namespace, plural: PLURAL, name: 'serve',
      body: [{ op: 'replace', path: '/spec/model', value: `${cluster.namespace}/other:prod` }],
    }).then(() => undefined, apiError);
    expect(refused?.message).toContain('spec.model: Invalid value');
    expect(refused?.message).toContain('field is immutable');
  });

  it('injects the executor into a pod labelled wharf.dev/inject-executor, and into no other', async () => {
    const pod = (name: string, labels: Record<string, string>, ports: { containerPort: number }[] = [{ containerPort: 9000 }]) => cluster.core.createNamespacedPod({
      namespace: cluster.namespace,
      body: { metadata: { name, labels }, spec: { nodeSelector: pool(), containers: [{ name: 'server', image: 'acme/other-server:3', ports }] } },
    });
    const injected = await pod('injected', { 'wharf.dev/inject-executor': 'true' });
    expect(injected.spec!.containers.map((container) => container.name)).toEqual(['server', 'executor']);
    expect(injected.spec!.containers[1].env).toEqual(expect.arrayContaining([{ name: 'EXECUTOR_UPSTREAM_URL', value: 'http://127.0.0.1:9000' }]));
    expect((await pod('plain', {})).spec!.containers.map((container) => container.name)).toEqual(['server']);
    const refused = await pod('portless', { 'wharf.dev/inject-executor': 'true' }, []).then(() => undefined, apiError);
    expect(refused?.message).toContain('metadata.annotations[wharf.dev/executor-upstream-port]: Required value');
  });

  it('converges after kill -9 mid-reconcile, with no duplicate objects', async () => {
    const names = ['crash-a', 'crash-b', 'crash-c', 'crash-d'];
    for (const name of names) await createMd(name, spec({ replicas: 1 }));
    // Killed once the first of them has a Deployment: the others are mid-way or not started.
    await waitFor('a first crash-* Deployment', () => cluster.apps.listNamespacedDeployment({ namespace: cluster.namespace, labelSelector: 'app.kubernetes.io/managed-by=wharf-operator' }),
      (list) => list.items.some((d) => d.metadata!.name!.startsWith('crash-')), 30_000);
    await operator!.kill();
    await startOperator();
    for (const name of names) await waitFor(`${name} Ready`, () => readMd(name), readyAt(1), 60_000);
    const deployments = await cluster.apps.listNamespacedDeployment({ namespace: cluster.namespace, labelSelector: 'app.kubernetes.io/managed-by=wharf-operator' });
    const services = await cluster.core.listNamespacedService({ namespace: cluster.namespace, labelSelector: 'app.kubernetes.io/managed-by=wharf-operator' });
    expect(deployments.items.map((d) => d.metadata!.name).filter((name) => name!.startsWith('crash-')).sort()).toEqual(names.map((name) => `${name}-main`));
    expect(services.items.map((s) => s.metadata!.name).filter((name) => name!.startsWith('crash-')).sort()).toEqual(names);
    const pods = await cluster.core.listNamespacedPod({ namespace: cluster.namespace, labelSelector: 'wharf.dev/model-deployment in (crash-a,crash-b,crash-c,crash-d)' });
    expect(pods.items.length).toBe(4);
  });

  it('with two replicas, only the Lease holder reconciles; the other takes over within the lease time when it dies', async () => {
    const coordination = cluster.config.makeApiClient(cluster.k8s.CoordinationV1Api);
    const readLease = () => coordination.readNamespacedLease({ name: 'wharf-operator', namespace: cluster.namespace });
    const first = await waitFor('a Lease holder', readLease, (lease) => Boolean(lease.spec?.holderIdentity));
    // A second replica: its own ports for webhooks and events, the same Lease.
    const second = await startOperatorProcess({ ...operatorEnv, HTTP_PORT: String(await freePort('127.0.0.1')), WEBHOOK_PORT: String(await freePort(cluster.info.hostAddress)) });
    try {
      await createMd('led', spec({ replicas: 1 }));
      await waitFor('led Ready', () => readMd('led'), readyAt(1), 30_000);
      // Renewals after that prove the follower had its chances; it never led nor reconciled.
      const readyAt_ = Date.now();
      await waitFor('more renewals', readLease, (lease) => new Date(String(lease.spec!.renewTime)).getTime() > readyAt_ + 700);
      expect((await readLease()).spec!.holderIdentity).toBe(first.spec!.holderIdentity);
      expect(second.output.filter((line) => line.includes('leading:') || line.includes('"reconciled"'))).toEqual([]);

      await operator!.kill();
      const killedAt = Date.now();
      const taken = await waitFor('the second replica leading', readLease, (lease) => lease.spec!.holderIdentity !== first.spec!.holderIdentity, 15_000);
      expect(Date.now() - killedAt).toBeLessThan(3_000 + 2_000); // the lease duration, plus a retry period and load
      expect(taken.spec!.leaseTransitions).toBeGreaterThanOrEqual(1);
      // The new leader reconciles (the webhooks point at the dead replica's port here, so the
      // proof is a Deployment it makes again rather than a new ModelDeployment).
      const before = await readDeployment('led-main');
      await cluster.apps.deleteNamespacedDeployment({ name: 'led-main', namespace: cluster.namespace });
      await waitFor('led-main made again by the new leader', () => readDeployment('led-main'), (d) => d.metadata!.uid !== before.metadata!.uid);
      expect(second.output.some((line) => line.includes('leading:'))).toBe(true);
    } finally {
      await second.kill();
    }
    await startOperator();
  });

  it('with the operator down, is refused (failurePolicy Fail) while other objects are not', async () => {
    await operator!.kill();
    const refused = await createMd('while-down', spec()).then(() => undefined, apiError);
    expect(refused?.message).toMatch(/failed calling webhook "default\.modeldeployments\.wharf\.dev"/);
    await expect(cluster.core.createNamespacedConfigMap({ namespace: cluster.namespace, body: { metadata: { name: 'unaffected' } } })).resolves.toBeDefined();
    // The pod hook is Ignore: a labelled pod still starts, without the sidecar.
    const started = await cluster.core.createNamespacedPod({
      namespace: cluster.namespace,
      body: { metadata: { name: 'injected-while-down', labels: { 'wharf.dev/inject-executor': 'true' } }, spec: { nodeSelector: pool(), containers: [{ name: 'server', image: 'acme/other-server:3', ports: [{ containerPort: 9000 }] }] } },
    });
    expect(started.spec!.containers.map((container) => container.name)).toEqual(['server']);
    await startOperator();
    await waitFor('a create accepted again', () => createMd('while-up', spec()).then(() => true), (ok) => ok, 30_000);
  });
});

describe('when things go away', () => {
  it('deleting a ModelDeployment removes what it owns', async () => {
    await cluster.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: cluster.namespace, plural: PLURAL, name: 'split' });
    await waitFor('split-stable and split-canary gone', () => cluster.apps.listNamespacedDeployment({ namespace: cluster.namespace, labelSelector: 'wharf.dev/model-deployment=split' }),
      (list) => list.items.length === 0);
    await waitFor('Service split gone', () => cluster.core.readNamespacedService({ name: 'split', namespace: cluster.namespace }).then(() => 'present', () => 'gone'), (state) => state === 'gone');
  });

  it('with the registry unreachable: Degraded with the reason, running pods untouched', async () => {
    const before = await readDeployment('serve-main');
    await registry.stop();
    // A spec change makes the operator resolve again, which now fails.
    await cluster.custom.patchNamespacedCustomObject({
      group: GROUP, version: VERSION, namespace: cluster.namespace, plural: PLURAL, name: 'serve',
      body: [{ op: 'replace', path: '/spec/replicas', value: 3 }],
    });
    const md = await waitFor('serve Degraded/RegistryUnavailable', () => readMd('serve'),
      (found) => condition(found, 'Degraded')?.status === 'True' && condition(found, 'Degraded')?.reason === 'RegistryUnavailable');
    expect(condition(md, 'ModelResolved')?.status).toBe('Unknown');
    expect(condition(md, 'Ready')?.status).toBe('True'); // still serving what it served
    const after = await readDeployment('serve-main');
    expect(after.metadata!.generation).toBe(before.metadata!.generation);
    expect(after.spec!.replicas).toBe(2);
    // Retried with backoff, not given up: the retries show in the operator's metrics.
    const metrics = await fetch(`http://127.0.0.1:${operatorEnv.HTTP_PORT}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/wharf_operator_reconciles_total\{result="error"\} [1-9]/);
  });
});
