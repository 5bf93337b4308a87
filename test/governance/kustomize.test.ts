import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config/config';
import { kubernetesModel } from './esm';
import { findKustomize, renderKustomization } from '../support/kustomize';
// The deploy/rbac checks run in this file, not a file of their own: both load kubernetes-models'
// RBAC classes as ES modules, and a second test file importing the same modules in one jest
// worker fails with "Test environment has been torn down" (seen when this file ran first).
import './rbac-manifests';

const ROOT = path.resolve(__dirname, '../..');
const KUSTOMIZATIONS = ['deploy/base', ...readdirSync(path.join(ROOT, 'deploy/overlays')).map((name) => `deploy/overlays/${name}`)];
const IMAGE = 'ghcr.io/wharf/wharf';
/** Secrets an operator creates by hand (deploy/README.md); every other reference must be rendered. */
const EXTERNAL_SECRETS = ['wharf-registry', 'wharf-node-agent', 'wharf-operator'];
const CLUSTER_SCOPED = ['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'];

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string }; configMapKeyRef?: { name: string } } }[];
  envFrom?: { configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean } }[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  serviceAccountName?: string;
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; persistentVolumeClaim?: { claimName: string }; emptyDir?: unknown }[];
}
interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: {
    replicas?: number;
    strategy?: { type: string };
    selector?: Record<string, string> & { matchLabels?: Record<string, string> };
    ports?: { port: number; targetPort: string | number }[];
    template?: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

const kustomize = findKustomize();
const renders = new Map<string, KubernetesObject[]>();

function objectsOf(dir: string): KubernetesObject[] {
  let objects = renders.get(dir);
  if (!objects) {
    const documents = parseAllDocuments(renderKustomization(kustomize!, path.join(ROOT, dir)));
    objects = documents.map((document) => document.toJS() as KubernetesObject).filter(Boolean);
    renders.set(dir, objects);
  }
  return objects;
}

const named = (objects: KubernetesObject[], kind: string, name: string) => objects.find((object) => object.kind === kind && object.metadata.name === name);
const podsOf = (objects: KubernetesObject[]) => objects.filter((object) => object.spec?.template).map((object) => ({ owner: object, pod: object.spec!.template!.spec }));
const registryOf = (objects: KubernetesObject[]) => {
  const deployment = named(objects, 'Deployment', 'wharf-registry')!;
  const container = deployment.spec!.template!.spec.containers.find((entry) => entry.name === 'registry')!;
  const configMap = named(objects, 'ConfigMap', container.envFrom!.find((source) => source.configMapRef)!.configMapRef!.name)!;
  const secret = container.envFrom!.find((source) => source.secretRef)!.secretRef!;
  return { deployment, container, settings: configMap.data ?? {}, secret };
};

/**
 * Rendering needs kustomize: $KUSTOMIZE (what `.ci/run` builds with scripts/kustomize.sh), else
 * the pinned build in its cache, else one built now when Go is here (once; cached after). On a
 * machine with none of these, `npm test` must still pass on embedded defaults, so the rendering
 * checks are left out there, as the Ceph contract run is without Ceph; CI always has them.
 */
const describeRendered: (name: string, body: () => void) => void = kustomize ? describe : () => undefined;

describeRendered('the kustomizations under deploy/, rendered', () => {
  it.each(KUSTOMIZATIONS)('%s renders objects valid by the Kubernetes schemas', async (dir) => {
    const objects = objectsOf(dir);
    expect(objects.length).toBeGreaterThanOrEqual(8);
    for (const object of objects) {
      const Model = await kubernetesModel(object.apiVersion, object.kind);
      expect(() => new Model(object).validate()).not.toThrow();
    }
  });

  it('the schema check can fail: a rendered Deployment whose container lost its image is refused', async () => {
    const deployment = structuredClone(named(objectsOf('deploy/base'), 'Deployment', 'wharf-registry')!);
    delete (deployment.spec!.template!.spec.containers[0] as Partial<Container>).name;
    const Deployment = await kubernetesModel('apps/v1', 'Deployment');
    expect(() => new Deployment(deployment).validate()).toThrow(/name/);
  });

  it.each(KUSTOMIZATIONS)('%s puts everything in wharf-system and refers only to what it renders or deploy/README.md lists', (dir) => {
    const objects = objectsOf(dir);
    for (const object of objects) {
      expect({ kind: object.kind, namespace: object.metadata.namespace }).toEqual({
        kind: object.kind,
        namespace: CLUSTER_SCOPED.includes(object.kind) ? undefined : 'wharf-system',
      });
    }
    expect(named(objects, 'Namespace', 'wharf-system')).toBeDefined();
    for (const { owner, pod } of podsOf(objects)) {
      if (pod.serviceAccountName) expect(named(objects, 'ServiceAccount', pod.serviceAccountName)).toBeDefined();
      for (const volume of pod.volumes ?? []) {
        if (volume.persistentVolumeClaim) expect(named(objects, 'PersistentVolumeClaim', volume.persistentVolumeClaim.claimName)).toBeDefined();
      }
      for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
        const configMaps = [...(container.envFrom ?? []).map((source) => source.configMapRef?.name), ...(container.env ?? []).map((entry) => entry.valueFrom?.configMapKeyRef?.name)];
        const secrets = [...(container.envFrom ?? []).map((source) => source.secretRef?.name), ...(container.env ?? []).map((entry) => entry.valueFrom?.secretKeyRef?.name)];
        for (const name of configMaps.filter(Boolean)) expect({ owner: owner.metadata.name, configMap: name, found: Boolean(named(objects, 'ConfigMap', name!)) }).toMatchObject({ found: true });
        for (const name of secrets.filter(Boolean)) expect(EXTERNAL_SECRETS).toContain(name);
      }
    }
  });

  it.each(KUSTOMIZATIONS)('%s runs the image the Dockerfile builds, each container naming one of its programs', (dir) => {
    const containers = podsOf(objectsOf(dir)).flatMap(({ pod }) => pod.containers);
    expect(containers.map((container) => container.args?.[0]).sort()).toEqual(['node-agent', 'operator', 'registry']);
    for (const container of containers) expect(container.image.startsWith(`${IMAGE}:`)).toBe(true);
  });

  it.each(KUSTOMIZATIONS)("%s gives the registry only variables it knows, with values it accepts, and the agents the registry's Service", (dir) => {
    const objects = objectsOf(dir);
    const { container, settings } = registryOf(objects);
    expect(Object.keys(settings).filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
    // The secret variables an operator puts in the Secret, with valid stand-ins.
    const secrets = settings.S3_ENDPOINT ? { S3_ACCESS_KEY: 'key', S3_SECRET_KEY: 'secret', DATABASE_URL: 'postgres://wharf:pw@db:5432/wharf' } : {};
    expect(() => loadConfig({ ...settings, ...secrets })).not.toThrow();
    expect(container.volumeMounts!.find((mount) => mount.name === 'data')!.mountPath).toBe(settings.DATA_DIR);

    const service = named(objects, 'Service', 'wharf-registry')!;
    const agent = podsOf(objects).find(({ owner }) => owner.kind === 'DaemonSet')!.pod.containers[0];
    const registryUrl = new URL(agent.env!.find((entry) => entry.name === 'REGISTRY_URL')!.value!);
    expect(registryUrl.hostname).toBe(`${service.metadata.name}.${service.metadata.namespace}.svc`);
    expect(Number(registryUrl.port)).toBe(service.spec!.ports![0].port);
    expect(container.ports!.map((port) => port.name)).toContain(service.spec!.ports![0].targetPort);
    expect(String(container.ports![0].containerPort)).toBe(settings.PORT);
    const podLabels = named(objects, 'Deployment', 'wharf-registry')!.spec!.template!.metadata.labels;
    for (const [key, value] of Object.entries(service.spec!.selector!)) expect(podLabels[key]).toBe(value);
  });

  it('the dev overlay runs one registry on embedded defaults, its data on a volume claim', () => {
    const { deployment, settings } = registryOf(objectsOf('deploy/overlays/dev'));
    expect(deployment.spec!.replicas).toBe(1);
    expect(deployment.spec!.strategy!.type).toBe('Recreate');
    expect(settings.DATABASE_URL).toBeUndefined();
    expect(settings.S3_ENDPOINT).toBeUndefined();
    expect(deployment.spec!.template!.spec.volumes!.find((volume) => volume.name === 'data')).toEqual({
      name: 'data',
      persistentVolumeClaim: { claimName: 'wharf-registry-data' },
    });
  });

  it('the production overlay runs several rolling registries on external Postgres and S3, secrets kept out of the ConfigMap', () => {
    const objects = objectsOf('deploy/overlays/production');
    const { deployment, settings, secret } = registryOf(objects);
    expect(deployment.spec!.replicas).toBeGreaterThanOrEqual(3);
    expect(deployment.spec!.strategy!.type).toBe('RollingUpdate');
    expect(settings.S3_ENDPOINT).toMatch(/^https:\/\//);
    for (const name of ['DATABASE_URL', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'WHARF_ADMIN_TOKEN', 'REDIS_URL']) expect(settings[name]).toBeUndefined();
    expect(secret).toEqual({ name: 'wharf-registry', optional: false });
    expect(named(objects, 'PodDisruptionBudget', 'wharf-registry')).toBeDefined();
  });
});

describe('the kustomizations under deploy/', () => {
  it('are a base and at least the dev and production overlays', () => {
    expect(KUSTOMIZATIONS).toEqual(expect.arrayContaining(['deploy/base', 'deploy/overlays/dev', 'deploy/overlays/production']));
  });

  it.each(KUSTOMIZATIONS)('%s lists only files that exist', async (dir) => {
    const { readFile, stat } = await import('node:fs/promises');
    const [kustomization] = parseAllDocuments(await readFile(path.join(ROOT, dir, 'kustomization.yaml'), 'utf8')).map((document) => document.toJS() as { resources?: string[]; patches?: { path?: string }[] });
    const files = [...(kustomization.resources ?? []), ...(kustomization.patches ?? []).map((patch) => patch.path).filter((file): file is string => Boolean(file))];
    for (const file of files) await expect(stat(path.join(ROOT, dir, file)).then(() => file)).resolves.toBe(file);
  });
});
