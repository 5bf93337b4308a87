// AdmissionReview v1 in and out (admission.k8s.io/v1): the pure part of the webhooks, so each
// decision is table-tested without a server.
import { KIND, type ModelDeployment } from '../model-deployment';
import type { V1Pod } from '@kubernetes/client-node';
import { defaultLabels, withDefaults } from './defaults';
import { injectExecutor, type ExecutorImage } from './inject';
import { validateModelDeployment } from './validate';

export interface AdmissionReview {
  apiVersion: string;
  kind: 'AdmissionReview';
  request?: {
    uid: string;
    kind?: { group: string; version: string; kind: string };
    operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
    namespace?: string;
    object?: ModelDeployment | V1Pod;
    oldObject?: ModelDeployment;
  };
  response?: AdmissionResponse;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
}

function reply(uid: string, response: Omit<AdmissionResponse, 'uid'>): AdmissionReview {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, ...response } };
}

/** The object under review with its namespace set (CREATE of a namespaced object may omit it). */
function reviewed(review: AdmissionReview): ModelDeployment | undefined {
  const object = review.request?.object as ModelDeployment | undefined;
  if (!object) return undefined;
  return { ...object, metadata: { ...object.metadata, namespace: object.metadata?.namespace ?? review.request?.namespace } };
}

export function validateReview(review: AdmissionReview): AdmissionReview {
  const request = review.request;
  if (!request?.uid) throw new Error('an AdmissionReview without request.uid');
  if (request.operation === 'DELETE' || request.kind?.kind !== KIND) return reply(request.uid, { allowed: true });
  const object = reviewed(review)!;
  const problems = validateModelDeployment(object, request.operation === 'UPDATE' ? request.oldObject : undefined);
  if (problems.length === 0) return reply(request.uid, { allowed: true });
  const name = object.metadata?.name ?? '';
  return reply(request.uid, {
    allowed: false,
    // The apiserver's own wording for schema errors, so both kinds of refusal read alike.
    status: { code: 422, reason: 'Invalid', message: `ModelDeployment.wharf.dev "${name}" is invalid: ${problems.join(', ')}` },
  });
}

export function mutateReview(review: AdmissionReview): AdmissionReview {
  const request = review.request;
  if (!request?.uid) throw new Error('an AdmissionReview without request.uid');
  if (request.operation === 'DELETE' || request.kind?.kind !== KIND) return reply(request.uid, { allowed: true });
  const object = reviewed(review)!;
  const spec = withDefaults(object.spec, object.metadata?.namespace);
  const patch = [
    { op: 'add', path: '/spec', value: spec },
    { op: 'add', path: '/metadata/labels', value: defaultLabels(object, spec) },
  ];
  return reply(request.uid, { allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
}

/** The pod webhook: the executor sidecar for pods labelled wharf.dev/inject-executor=true. */
export function injectReview(review: AdmissionReview, executor: ExecutorImage): AdmissionReview {
  const request = review.request;
  if (!request?.uid) throw new Error('an AdmissionReview without request.uid');
  if (request.operation !== 'CREATE' || request.kind?.kind !== 'Pod' || !request.object) return reply(request.uid, { allowed: true });
  const pod = request.object as V1Pod;
  const result = injectExecutor(pod, executor);
  if (!result.allowed) {
    const name = pod.metadata?.name ?? pod.metadata?.generateName ?? '';
    return reply(request.uid, { allowed: false, status: { code: 422, reason: 'Invalid', message: `Pod "${name}" is invalid: ${result.message}` } });
  }
  if (result.patch.length === 0) return reply(request.uid, { allowed: true });
  return reply(request.uid, { allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(result.patch)).toString('base64') });
}
