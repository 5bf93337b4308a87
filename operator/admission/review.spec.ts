import type { ModelDeployment } from '../model-deployment';
import { mutateReview, validateReview, type AdmissionReview } from './review';

const kind = { group: 'wharf.dev', version: 'v1alpha1', kind: 'ModelDeployment' };

function review(spec: object, operation: 'CREATE' | 'UPDATE' = 'CREATE', oldSpec?: object): AdmissionReview {
  const object = (s: object) => ({ apiVersion: 'wharf.dev/v1alpha1', kind: 'ModelDeployment', metadata: { name: 'resnet' }, spec: s }) as unknown as ModelDeployment;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'u-1', kind, operation, namespace: 'vision', object: object(spec), oldObject: oldSpec ? object(oldSpec) : undefined },
  };
}

/** What the mutating webhook stores, then what the validating one says about it. */
function admit(spec: object, operation: 'CREATE' | 'UPDATE' = 'CREATE', oldSpec?: object) {
  const mutated = mutateReview(review(spec, operation, oldSpec));
  const patch = JSON.parse(Buffer.from(mutated.response!.patch!, 'base64').toString()) as { path: string; value: object }[];
  const defaulted = patch.find((op) => op.path === '/spec')!.value;
  const validated = validateReview(review(defaulted, operation, oldSpec));
  return { defaulted, patch, response: validated.response! };
}

const good = { model: 'resnet50:prod', runtime: { image: 'ghcr.io/acme/torchserve:0.11' } };

describe('the mutating webhook', () => {
  it('fills in defaults, the project of the reference and labels', () => {
    const { defaulted, patch, response } = admit(good);
    expect(defaulted).toMatchObject({
      model: 'vision/resnet50:prod',
      replicas: 1,
      runtime: { image: 'ghcr.io/acme/torchserve:0.11', port: 8080, modelPath: '/mnt/models' },
      executor: { mode: 'sync', concurrency: 8, timeoutSeconds: 60, auth: 'none' },
      cache: { policy: 'prefer', warmBeforeRollout: false },
    });
    expect(patch.find((op) => op.path === '/metadata/labels')!.value).toEqual({ 'wharf.dev/project': 'vision', 'wharf.dev/model': 'resnet50' });
    expect(response).toEqual({ uid: 'u-1', allowed: true });
  });

  it('names unnamed routes by position and keeps given values', () => {
    const { defaulted } = admit({ traffic: [{ model: 'm:prod', weight: 90 }, { name: 'canary', model: 'm@4', weight: 10 }], replicas: 10, runtime: { image: 'x', port: 9000 } });
    expect(defaulted).toMatchObject({ traffic: [{ name: 'route-0', model: 'vision/m:prod' }, { name: 'canary', model: 'vision/m@4' }], replicas: 10, runtime: { port: 9000 } });
  });
});

describe('the validating webhook', () => {
  it.each<[string, object, string]>([
    ['a malformed reference', { ...good, model: 'resnet50' }, 'spec.model: Invalid value: "resnet50" is not a reference'],
    ["another project's model", { ...good, model: 'other/resnet50:prod' }, 'spec.model: Invalid value: "other/resnet50:prod": the project must be the namespace\'s (vision)'],
    ['both model and traffic', { ...good, traffic: [{ model: 'm:a', weight: 100 }] }, 'spec.model: Invalid value: give exactly one'],
    ['weights not summing to 100', { ...good, model: undefined, traffic: [{ model: 'm:a', weight: 90 }, { model: 'm:b', weight: 20 }] }, 'spec.traffic: Invalid value: the weights sum to 110'],
    ['a duplicate route name', { ...good, model: undefined, traffic: [{ name: 'a', model: 'm:a', weight: 50 }, { name: 'a', model: 'm:b', weight: 50 }] }, 'spec.traffic[1].name: Duplicate value'],
    ['a concurrency out of range', { ...good, executor: { concurrency: 5000 } }, 'spec.executor.concurrency: Invalid value: 5000'],
    ['a timeout out of range', { ...good, executor: { timeoutSeconds: 0 } }, 'spec.executor.timeoutSeconds: Invalid value: 0'],
    ['an unknown executor mode', { ...good, executor: { mode: 'batch' } }, 'spec.executor.mode: Unsupported value: "batch"'],
    ['replicas with autoscaling', { ...good, replicas: 2, autoscaling: { minReplicas: 1, maxReplicas: 3 } }, 'spec.replicas: Forbidden'],
    ['autoscaling min above max', { ...good, autoscaling: { minReplicas: 4, maxReplicas: 3 } }, 'spec.autoscaling: Invalid value'],
    ['no image', { model: 'm:prod', runtime: {} }, 'spec.runtime.image: Required value'],
    ['a relative model path', { ...good, runtime: { image: 'x', modelPath: 'models' } }, 'spec.runtime.modelPath: Invalid value'],
  ])('refuses %s, naming the field', (_what, spec, message) => {
    const { response } = admit(spec);
    expect(response.allowed).toBe(false);
    expect(response.status).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(response.status!.message).toContain('ModelDeployment.wharf.dev "resnet" is invalid: ');
    expect(response.status!.message).toContain(message);
  });

  it('lets the tag change on update but not the model', () => {
    expect(admit({ ...good, model: 'resnet50:staging' }, 'UPDATE', { ...good, model: 'vision/resnet50:prod' }).response.allowed).toBe(true);
    const refused = admit({ ...good, model: 'vgg16:prod' }, 'UPDATE', { ...good, model: 'vision/resnet50:prod' }).response;
    expect(refused.status!.message).toContain('spec.model: Invalid value: "vision/vgg16:prod": field is immutable');
  });
});
