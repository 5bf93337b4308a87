// The admission webhooks over HTTPS: POST /mutate, /validate (ModelDeployments) and /inject (pods) take an AdmissionReview v1
// and answer one. A review that cannot be read is a 400: the apiserver then applies the webhook's
// failurePolicy (deploy/base/operator/webhooks.yaml: Fail for ModelDeployments, Ignore for pods).
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createSecureContext } from 'node:tls';
import { readBody, sendJson } from '../http-server';
import type { ExecutorImage } from './inject';
import { injectReview, mutateReview, validateReview, type AdmissionReview } from './review';

export function createAdmissionServer(certFile: string, keyFile: string, executor: ExecutorImage, onError: (error: unknown) => void): Server {
  // Read per connection, so a renewed certificate (cert-manager rewrites the files) is served without a restart.
  const options = () => ({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
  const server = createServer({ ...options(), SNICallback: (_name, callback) => callback(null, createSecureContext(options())) }, (request, response) => {
    void (async () => {
      const path = new URL(request.url ?? '/', 'https://operator').pathname;
      if (request.method === 'GET' && path === '/healthz') return sendJson(response, 200, { status: 'ok' });
      const handlers: Record<string, (review: AdmissionReview) => AdmissionReview> = {
        '/mutate': mutateReview,
        '/validate': validateReview,
        '/inject': (review) => injectReview(review, executor),
      };
      const handler = handlers[path];
      if (request.method !== 'POST' || !handler) return sendJson(response, 404, { code: 'route_not_found', detail: `no route ${request.method} ${path}` });
      let review: AdmissionReview;
      try {
        review = JSON.parse(await readBody(request)) as AdmissionReview;
        if (review.kind !== 'AdmissionReview' || review.apiVersion !== 'admission.k8s.io/v1') throw new Error('expected an admission.k8s.io/v1 AdmissionReview');
        sendJson(response, 200, handler(review));
      } catch (error) {
        onError(error);
        sendJson(response, 400, { code: 'bad_review', detail: (error as Error).message });
      }
    })();
  });
  return server;
}

/** Writes CA (PEM) as the caBundle of every webhook in our two configurations. */
export async function patchCaBundle(
  kube: { request<T>(method: string, path: string, body?: unknown, extra?: { contentType?: string }): Promise<T> },
  configurationName: string,
  caPem: string,
): Promise<void> {
  const caBundle = Buffer.from(caPem).toString('base64');
  for (const kind of ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations']) {
    const path = `/apis/admissionregistration.k8s.io/v1/${kind}/${configurationName}`;
    const current = await kube.request<{ webhooks?: { name: string; clientConfig?: { caBundle?: string } }[] }>('GET', path);
    const webhooks = (current.webhooks ?? []).filter((webhook) => webhook.clientConfig?.caBundle !== caBundle);
    if (webhooks.length === 0) continue;
    // Strategic merge on the webhooks list merges by name: only caBundle changes.
    const patch = { webhooks: (current.webhooks ?? []).map((webhook) => ({ name: webhook.name, clientConfig: { caBundle } })) };
    await kube.request('PATCH', path, patch, { contentType: 'application/strategic-merge-patch+json' });
  }
}
