// deploy/scheduler wires kube-scheduler to the extender the registry serves: the profile name pods
// use, the verbs and path the controller answers, the Service the base renders, and the Secret
// key the registry reads. (The cluster suite's deploy-manifests test dry-runs the rendered objects.)
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config/config';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const TOKEN = 'a_token_made_for_this_test_0123';

interface Extender { urlPrefix: string; filterVerb: string; prioritizeVerb: string; weight: number; nodeCacheCapable: boolean; ignorable: boolean; httpTimeout: string }
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const config = parse(read('deploy/scheduler/kube-scheduler-config.yaml')) as { kind: string; profiles: { schedulerName: string }[]; extenders: Extender[]; leaderElection: Record<string, unknown> };
const objects = parseAllDocuments(read('deploy/scheduler/scheduler.yaml')).map((document) => document.toJS() as Loose);
const deployment = objects.find((object) => object.kind === 'Deployment');
const render = deployment.spec.template.spec.initContainers[0];

/** What the init container's sed makes of the template, with the token the Secret holds. */
function rendered(token: string): { extenders: Extender[] } {
  const script: string = render.command[2];
  expect(script).toContain('s/__SCHEDULER_EXTENDER_TOKEN__/$SCHEDULER_EXTENDER_TOKEN/');
  // sed without /g: the first placeholder of each line.
  return parse(read('deploy/scheduler/kube-scheduler-config.yaml').split('\n').map((line) => line.replace('__SCHEDULER_EXTENDER_TOKEN__', token)).join('\n'));
}

it('runs one profile, wharf-scheduler, with the extender ignorable and nodeCacheCapable', () => {
  expect(config.kind).toBe('KubeSchedulerConfiguration');
  expect(config.profiles.map((profile) => profile.schedulerName)).toEqual(['wharf-scheduler']);
  expect(config.extenders).toHaveLength(1);
  expect(config.extenders[0]).toMatchObject({ filterVerb: 'filter', prioritizeVerb: 'prioritize', nodeCacheCapable: true, ignorable: true });
  expect(config.leaderElection).toMatchObject({ leaderElect: true, resourceNamespace: 'wharf-system', resourceName: 'wharf-scheduler' });
});

it("calls the registry's Service on the path the controller serves, with the token the registry is given", () => {
  const url = new URL(rendered(TOKEN).extenders[0].urlPrefix);
  const service = parseAllDocuments(read('deploy/base/registry.yaml')).map((document) => document.toJS() as Loose).find((object) => object.kind === 'Service');
  expect(url.hostname).toBe(`${service.metadata.name}.wharf-system.svc`);
  expect(Number(url.port)).toBe(service.spec.ports[0].port);
  expect(url.pathname).toBe(`/api/v1/scheduler/t/${TOKEN}`);

  const secret = render.env[0].valueFrom.secretKeyRef;
  expect(secret.name).toBe('wharf-registry');
  expect(CONFIG_VARIABLES).toContain(secret.key);
  expect(loadConfig({ [secret.key]: TOKEN }).SCHEDULER_EXTENDER_TOKEN).toBe(TOKEN);
});

it('mounts the rendered file where kube-scheduler reads it, from the generated ConfigMap', () => {
  const scheduler = deployment.spec.template.spec.containers[0];
  const configFlag = scheduler.command.find((arg: string) => arg.startsWith('--config='));
  const mount = scheduler.volumeMounts.find((m: { name: string }) => m.name === 'config');
  expect(configFlag).toBe(`--config=${mount.mountPath}/kube-scheduler-config.yaml`);
  expect(render.command[2]).toContain(`> ${mount.mountPath}/kube-scheduler-config.yaml`);
  const kustomization = parse(read('deploy/scheduler/kustomization.yaml'));
  const template = deployment.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'template');
  expect(kustomization.configMapGenerator[0]).toEqual({ name: template.configMap.name, files: ['kube-scheduler-config.yaml'] });
  expect(deployment.spec.template.spec.serviceAccountName).toBe(objects.find((object) => object.kind === 'ServiceAccount').metadata.name);
});
