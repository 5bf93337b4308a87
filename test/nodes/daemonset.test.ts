import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { AGENT_VARIABLES, loadAgentConfig } from '../../node-agent/config';
import { spawnSync } from 'node:child_process';

const FILE = path.resolve(__dirname, '../../deploy/base/node-agent.yaml');
const documents = parseAllDocuments(readFileSync(FILE, 'utf8')).map((document) => document.toJS() as { apiVersion: string; kind: string; [key: string]: unknown });

/**
 * Validates objects with kubernetes-models (ES modules only) in a child Node process, outside
 * jest's module sandbox: each answer is null (valid) or the schema's message.
 */
function validate(objects: { apiVersion: string; kind: string }[]): (string | null)[] {
  const script = `
    const objects = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    (async () => {
      const answers = [];
      for (const object of objects) {
        const module = await import('kubernetes-models/' + object.apiVersion + '/' + object.kind);
        try { new module[object.kind](object).validate(); answers.push(null); } catch (error) { answers.push(String(error.message)); }
      }
      process.stdout.write(JSON.stringify(answers));
    })().catch((error) => { process.stderr.write(String(error)); process.exit(1); });`;
  const result = spawnSync(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '../..'), input: JSON.stringify(objects), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`validation failed to run: ${result.stderr}`);
  return JSON.parse(result.stdout) as (string | null)[];
}

describe('deploy/base/node-agent.yaml', () => {
  it('holds the DaemonSet and the RBAC it needs', () => {
    expect(documents.map((document) => document.kind)).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'DaemonSet']);
  });

  it('is made of objects valid by the Kubernetes schemas', () => {
    expect(validate(documents)).toEqual(documents.map(() => null));
  });

  const daemonSet = documents.find((document) => document.kind === 'DaemonSet') as unknown as DaemonSet;
  const pod = daemonSet.spec!.template.spec!;
  const agent = pod.containers.find((container) => container.name === 'agent')!;

  it('the schema check itself refuses a broken DaemonSet', () => {
    const broken = JSON.parse(JSON.stringify(daemonSet));
    delete broken.spec.template.spec.containers[0].name;
    const noVolume = JSON.parse(JSON.stringify(daemonSet));
    noVolume.spec.template.spec.volumes[0].hostPath = { type: 'DirectoryOrCreate' };
    const [missingName, missingPath] = validate([broken, noVolume]);
    expect(missingName).toMatch(/containers\/0 must have required property name/);
    expect(missingPath).toMatch(/hostPath must have required property path/);
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
