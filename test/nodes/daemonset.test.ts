import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { AGENT_VARIABLES, loadAgentConfig } from '../../node-agent/config';
import { kubernetesModel } from '../governance/esm';

const FILE = path.resolve(__dirname, '../../deploy/node-agent-daemonset.yaml');
const documents = parseAllDocuments(readFileSync(FILE, 'utf8')).map((document) => document.toJS() as { apiVersion: string; kind: string; [key: string]: unknown });

describe('deploy/node-agent-daemonset.yaml', () => {
  it('holds the DaemonSet and the RBAC it needs', () => {
    expect(documents.map((document) => document.kind)).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'DaemonSet']);
  });

  it.each(documents.map((document) => [document.kind, document] as const))('is a valid %s by the Kubernetes schema', async (kind, document) => {
    const Model = await kubernetesModel(document.apiVersion, String(kind));
    expect(() => new Model(document).validate()).not.toThrow();
  });

  const daemonSet = documents.find((document) => document.kind === 'DaemonSet') as unknown as DaemonSet;
  const pod = daemonSet.spec!.template.spec!;
  const agent = pod.containers.find((container) => container.name === 'agent')!;

  it('the schema check itself refuses a broken DaemonSet', async () => {
    const broken = JSON.parse(JSON.stringify(daemonSet));
    delete broken.spec.template.spec.containers[0].name;
    const Model = await kubernetesModel('apps/v1', 'DaemonSet');
    expect(() => new Model(broken).validate()).toThrow(/name/);
  });

  it('takes NODE_NAME from the downward API and configures the agent with valid values', () => {
    const env = agent.env!;
    expect(env.find((variable) => variable.name === 'NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
    expect(env.find((variable) => variable.name === 'WHARF_TOKEN')?.valueFrom?.secretKeyRef).toBeDefined();
    const values = Object.fromEntries(env.filter((variable) => variable.value !== undefined).map((variable) => [variable.name, variable.value!]));
    expect(Object.keys(values).filter((name) => !AGENT_VARIABLES.includes(name))).toEqual([]);
    expect(() => loadAgentConfig({ ...values, NODE_NAME: 'node-1', WHARF_TOKEN: 'token' })).not.toThrow();
  });

  it('mounts the cache from the host at the path the agent answers, and runs locked down with probes and limits', () => {
    const cache = pod.volumes!.find((volume) => volume.name === 'cache')!;
    const cacheDir = agent.env!.find((variable) => variable.name === 'CACHE_DIR')!.value;
    expect(cache.hostPath?.path).toBe(cacheDir);
    expect(agent.volumeMounts!.find((mount) => mount.name === 'cache')!.mountPath).toBe(cacheDir);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(agent.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(agent.resources?.limits).toMatchObject({ memory: expect.any(String), cpu: expect.any(String) });
    for (const probe of [agent.livenessProbe, agent.readinessProbe, agent.startupProbe]) expect(probe?.httpGet?.path).toBe('/healthz');
    expect(agent.ports?.[0]).toMatchObject({ containerPort: 7070, hostPort: 7070 });
  });
});
