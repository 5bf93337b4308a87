import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { projectGroup } from '../../src/token-review/token-review';
import { ROLES } from '../../src/auth/roles';
import { kubernetesModel } from './esm';

const DEPLOY = path.resolve(__dirname, '../../deploy');

interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: { apiGroup?: string; kind: string; name: string }[];
}

async function objectsIn(file: string): Promise<KubernetesObject[]> {
  const documents = parseAllDocuments(await readFile(file, 'utf8'));
  for (const document of documents) expect(document.errors).toEqual([]);
  return documents.map((document) => document.toJS() as KubernetesObject).filter(Boolean);
}

describe('deploy/ manifests', () => {
  let rbac: KubernetesObject[];

  beforeAll(async () => {
    const files = (await readdir(path.join(DEPLOY, 'rbac'))).filter((file) => file.endsWith('.yaml'));
    rbac = (await Promise.all(files.map((file) => objectsIn(path.join(DEPLOY, 'rbac', file))))).flat();
  });

  it('are valid Kubernetes objects according to the Kubernetes schemas', async () => {
    expect(rbac.length).toBeGreaterThanOrEqual(6);
    for (const object of rbac) {
      const Model = await kubernetesModel(object.apiVersion, object.kind);
      expect(() => new Model(object).validate()).not.toThrow();
    }
  });

  it('the schema check can fail: a Role rule without verbs is refused', async () => {
    const Role = await kubernetesModel('rbac.authorization.k8s.io/v1', 'Role');
    const broken = { ...rbac.find((object) => object.kind === 'Role')!, rules: [{ apiGroups: [''], resources: ['pods'] }] };
    expect(() => new Role(broken).validate()).toThrow(/verbs/);
  });

  it('give each Wharf role a Role and bind it to exactly the group TokenReview answers', () => {
    const roles = rbac.filter((object) => object.kind === 'Role');
    const bindings = rbac.filter((object) => object.kind === 'RoleBinding');
    for (const role of ROLES) {
      const binding = bindings.find((object) => object.roleRef?.name === `wharf-${role}`);
      expect(binding).toBeDefined();
      expect(roles.some((object) => object.metadata.name === `wharf-${role}` && object.metadata.namespace === binding!.metadata.namespace)).toBe(true);
      expect(binding!.subjects).toEqual([
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: projectGroup(binding!.metadata.namespace!, role) },
      ]);
    }
  });

  it('give every higher role at least the rights of the lower one (a token carries only its highest role)', () => {
    const grants = (name: string) =>
      new Set(
        rbac
          .filter((object) => object.kind === 'Role' && object.metadata.name === name)
          .flatMap((role) => role.rules!.flatMap((rule) => rule.apiGroups.flatMap((group) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${group}/${resource}/${verb}`))))),
      );
    const [viewer, editor, admin] = ROLES.map((role) => grants(`wharf-${role}`));
    for (const grant of viewer) expect(editor).toContain(grant);
    for (const grant of editor) expect(admin).toContain(grant);
  });

  it('ship a kube-apiserver webhook config in kubeconfig format pointing at the TokenReview route', async () => {
    const [config] = (await objectsIn(path.join(DEPLOY, 'kube-apiserver-webhook.yaml'))) as unknown as {
      apiVersion: string;
      kind: string;
      clusters: { name: string; cluster: { server: string; 'certificate-authority'?: string } }[];
      users: { name: string; user: { token?: string } }[];
      contexts: { name: string; context: { cluster: string; user: string } }[];
      'current-context': string;
    }[];
    expect(config.apiVersion).toBe('v1');
    expect(config.kind).toBe('Config');
    expect(config.clusters).toHaveLength(1);
    expect(new URL(config.clusters[0].cluster.server).pathname).toBe('/api/v1/authn/tokenreview');
    expect(config.clusters[0].cluster.server.startsWith('https://')).toBe(true);
    const context = config.contexts.find((entry) => entry.name === config['current-context'])!;
    expect(context.context.cluster).toBe(config.clusters[0].name);
    expect(config.users.map((user) => user.name)).toContain(context.context.user);
  });
});
