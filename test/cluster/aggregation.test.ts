// Smoke test of the aggregation layer and the HPA controller: an APIService backed by the test's
// own HTTPS server answers through the apiserver, and an HPA reads a custom metric from it.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { useCluster, waitFor } from '../support/cluster';

const cluster = useCluster('aggregation');
const GROUP_VERSION = 'custom.metrics.k8s.io/v1beta2';
const METRIC = 'queue_depth';
const SERVICE = 'custom-metrics';

let server: Server;
/** Who each request came from, as the apiserver's front-proxy headers say. */
const callers: { path: string; user?: string; viaFrontProxy: boolean }[] = [];

/** A minimal custom metrics API: every Deployment's queue_depth is 42. */
function answer(path: string): { status: number; body: unknown } {
  if (path === `/apis/${GROUP_VERSION}`) {
    return {
      status: 200,
      body: {
        kind: 'APIResourceList', apiVersion: 'v1', groupVersion: GROUP_VERSION,
        resources: [{ name: `deployments.apps/${METRIC}`, singularName: '', namespaced: true, kind: 'MetricValueList', verbs: ['get'] }],
      },
    };
  }
  const match = new RegExp(`^/apis/${GROUP_VERSION}/namespaces/([^/]+)/deployments.apps/([^/]+)/${METRIC}$`).exec(path);
  if (!match) return { status: 404, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound' } };
  return {
    status: 200,
    body: {
      kind: 'MetricValueList', apiVersion: GROUP_VERSION, metadata: {},
      items: [{
        describedObject: { kind: 'Deployment', apiVersion: 'apps/v1', namespace: match[1], name: match[2] },
        metric: { name: METRIC },
        timestamp: new Date().toISOString(),
        value: '42',
      }],
    },
  };
}

beforeAll(async () => {
  const { core, registration, namespace, info } = cluster;
  // The aggregator checks the certificate against <service>.<namespace>.svc and presents its
  // front-proxy client certificate, which this server asks for and checks against its CA.
  const tls = cluster.servingCert({ dnsNames: [`${SERVICE}.${namespace}.svc`] });
  server = createServer({ ...tls, requestCert: true, rejectUnauthorized: false, ca: readFileSync(info.frontProxyCa) }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    callers.push({ path, user: req.headers['x-remote-user'] as string | undefined, viaFrontProxy: (req.socket as TLSSocket).authorized });
    const { status, body } = answer(path);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, info.hostAddress, resolve));
  const { port } = server.address() as AddressInfo;

  // A Service without a selector, its endpoint the test's server: the apiserver dials endpoints.
  await core.createNamespacedService({ namespace, body: { metadata: { name: SERVICE }, spec: { ports: [{ port: 443, targetPort: port }] } } });
  await core.createNamespacedEndpoints({
    namespace,
    body: { metadata: { name: SERVICE }, subsets: [{ addresses: [{ ip: info.hostAddress }], ports: [{ port }] }] },
  });
  await registration.createAPIService({
    body: {
      metadata: { name: `v1beta2.custom.metrics.k8s.io` },
      spec: {
        group: 'custom.metrics.k8s.io', version: 'v1beta2',
        service: { namespace, name: SERVICE, port: 443 },
        caBundle: readFileSync(info.ca.cert).toString('base64'),
        groupPriorityMinimum: 100, versionPriority: 100,
      },
    },
  });
  await waitFor(
    'APIService v1beta2.custom.metrics.k8s.io Available',
    () => registration.readAPIService({ name: 'v1beta2.custom.metrics.k8s.io' }),
    (api) => api.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false,
    60_000,
  );
});

afterAll(async () => {
  await cluster.registration.deleteAPIService({ name: 'v1beta2.custom.metrics.k8s.io' }).catch(() => undefined);
  server?.closeAllConnections();
  server?.close();
});

it('answers /apis/<group>/<version> of an APIService through the apiserver from the test server', async () => {
  const response = await cluster.get(`/apis/${GROUP_VERSION}`);

  expect(response.status).toBe(200);
  expect(JSON.parse(response.body)).toMatchObject({ groupVersion: GROUP_VERSION, resources: [{ name: `deployments.apps/${METRIC}` }] });
  const call = callers.filter((c) => c.path === `/apis/${GROUP_VERSION}` && c.user === 'wharf-test-admin');
  expect(call.length).toBeGreaterThan(0);
  expect(call.every((c) => c.viaFrontProxy)).toBe(true);
});

it('shows the custom metric an HPA reads through the APIService in its status', async () => {
  const { apps, autoscaling, namespace } = cluster;
  await cluster.addNodes([{ name: `${namespace}-node`, labels: { 'wharf.test/pool': namespace } }]);
  const labels = { app: 'queue-worker' };
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'queue-worker' },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { nodeSelector: { 'wharf.test/pool': namespace }, containers: [{ name: 'main', image: 'wharf.test/idle' }] },
        },
      },
    },
  });
  await autoscaling.createNamespacedHorizontalPodAutoscaler({
    namespace,
    body: {
      metadata: { name: 'queue-worker' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'queue-worker' },
        minReplicas: 1,
        maxReplicas: 3,
        metrics: [{
          type: 'Object',
          object: {
            describedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'queue-worker' },
            metric: { name: METRIC },
            target: { type: 'Value', value: '100' },
          },
        }],
      },
    },
  });

  const hpa = await waitFor(
    `HPA queue-worker showing ${METRIC}`,
    () => autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name: 'queue-worker' }),
    (h) => (h.status?.currentMetrics ?? []).length > 0,
    60_000,
  );
  expect(hpa.status?.currentMetrics?.[0]).toMatchObject({
    type: 'Object',
    object: { metric: { name: METRIC }, current: { value: '42' } },
  });
  expect(callers.some((c) => c.path.endsWith(`/deployments.apps/queue-worker/${METRIC}`) && c.viaFrontProxy)).toBe(true);
});
