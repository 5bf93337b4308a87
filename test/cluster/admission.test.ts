// Smoke test of the apiserver's admission path: a CRD's schema, and a validating webhook served by
// the test itself over HTTPS, reached by the apiserver inside the cluster's network namespace.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { apiError, useCluster, waitFor } from '../support/cluster';

const cluster = useCluster('admission');

describe('a CustomResourceDefinition', () => {
  const group = 'smoke.wharf.test';
  const plural = 'caches';

  beforeAll(async () => {
    await cluster.extensions.createCustomResourceDefinition({
      body: {
        metadata: { name: `${plural}.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural, singular: 'cache', kind: 'Cache' },
          versions: [{
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    required: ['sizeGi'],
                    properties: { sizeGi: { type: 'integer', minimum: 1 } },
                  },
                },
              },
            },
          }],
        },
      },
    });
    await waitFor(
      `CRD ${plural}.${group} Established`,
      () => cluster.extensions.readCustomResourceDefinition({ name: `${plural}.${group}` }),
      (crd) => crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false,
    );
  });

  afterAll(async () => {
    await cluster.extensions.deleteCustomResourceDefinition({ name: `${plural}.${group}` }).catch(() => undefined);
  });

  const create = (name: string, spec: unknown) =>
    cluster.custom.createNamespacedCustomObject({
      group, version: 'v1', namespace: cluster.namespace, plural,
      body: { apiVersion: `${group}/v1`, kind: 'Cache', metadata: { name }, spec },
    });

  it('stores a custom resource that fits its schema', async () => {
    const created = (await create('fits', { sizeGi: 10 })) as { metadata: { uid?: string } };
    expect(created.metadata.uid).toBeDefined();
  });

  it('refuses a custom resource that breaks its schema, naming the field', async () => {
    const refused = await create('breaks', { sizeGi: 0 }).then(() => undefined, apiError);

    expect(refused?.code).toBe(422);
    expect(refused?.message).toContain('spec.sizeGi');
  });
});

describe('a validating admission webhook served by the test', () => {
  const denial = 'configmaps labelled wharf.test/deny are refused by the smoke test';
  let server: Server;
  const reviews: string[] = [];

  beforeAll(async () => {
    const { hostAddress } = cluster.info;
    const tls = cluster.servingCert({ ips: [hostAddress] });
    server = createServer(tls, (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const review = JSON.parse(body) as { request: { uid: string; name?: string } };
        reviews.push(review.request.name ?? '');
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: { uid: review.request.uid, allowed: false, status: { code: 403, message: denial } },
        }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, hostAddress, resolve));
    const { port } = server.address() as AddressInfo;

    await cluster.admission.createValidatingWebhookConfiguration({
      body: {
        metadata: { name: cluster.namespace },
        webhooks: [{
          name: 'deny.smoke.wharf.test',
          clientConfig: {
            url: `https://${hostAddress}:${port}/validate`,
            caBundle: readFileSync(cluster.info.ca.cert).toString('base64'),
          },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': cluster.namespace } },
          objectSelector: { matchExpressions: [{ key: 'wharf.test/deny', operator: 'Exists' }] },
          failurePolicy: 'Fail',
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
        }],
      },
    });
  });

  afterAll(async () => {
    await cluster.admission.deleteValidatingWebhookConfiguration({ name: cluster.namespace }).catch(() => undefined);
    server?.closeAllConnections();
    server?.close();
  });

  it('denies a create with its message', async () => {
    const { core, namespace } = cluster;
    let attempt = 0;
    // The apiserver picks up a new webhook configuration a moment after it is stored: until then
    // creates pass, so each try uses a new name and the wait ends at the first refusal.
    const refused = await waitFor(
      'the webhook to refuse a labelled ConfigMap',
      () => core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: `denied-${++attempt}`, labels: { 'wharf.test/deny': 'yes' } } },
      }).then(() => undefined, apiError),
      (error) => error !== undefined,
    );

    expect(refused?.code).toBe(403);
    expect(refused?.message).toContain('admission webhook "deny.smoke.wharf.test" denied the request');
    expect(refused?.message).toContain(denial);
    expect(reviews).toContain(`denied-${attempt}`);
    // The webhook's selector leaves other ConfigMaps alone.
    await expect(core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'allowed' } } })).resolves.toBeDefined();
  });
});
