import type { V1Pod } from '@kubernetes/client-node';
import { injectExecutor, type Injection } from './inject';

const executor = { image: 'wharf/executor:1', port: 8000 };
const pod = (labels: Record<string, string> = { 'wharf.dev/inject-executor': 'true' }, annotations: Record<string, string> = {}, ports = [{ containerPort: 9000 }]): V1Pod => ({
  metadata: { name: 'p', labels, annotations },
  spec: { containers: [{ name: 'server', image: 'acme/server', ports }] },
});
const sidecarEnv = (result: Injection) => {
  if (!result.allowed) throw new Error(result.message);
  const value = (result.patch[0] as { value: { env: { name: string; value: string }[] } }).value;
  return Object.fromEntries(value.env.map((entry) => [entry.name, entry.value]));
};

describe('injectExecutor', () => {
  it('leaves a pod without the label alone', () => {
    expect(injectExecutor(pod({}), executor)).toEqual({ allowed: true, patch: [] });
  });

  it('appends the executor in front of the first declared port', () => {
    const result = injectExecutor(pod(), executor);
    expect(result).toMatchObject({ allowed: true, patch: [{ op: 'add', path: '/spec/containers/-', value: { name: 'executor', image: 'wharf/executor:1' } }] });
    expect(sidecarEnv(result)).toMatchObject({ EXECUTOR_UPSTREAM_URL: 'http://127.0.0.1:9000', EXECUTOR_MODE: 'sync', EXECUTOR_CONCURRENCY: '8' });
  });

  it('takes the port and settings from annotations', () => {
    const result = injectExecutor(pod(undefined, { 'wharf.dev/executor-upstream-port': '7000', 'wharf.dev/executor-mode': 'async', 'wharf.dev/executor-concurrency': '2' }), executor);
    expect(sidecarEnv(result)).toMatchObject({ EXECUTOR_UPSTREAM_URL: 'http://127.0.0.1:7000', EXECUTOR_MODE: 'async', EXECUTOR_CONCURRENCY: '2' });
  });

  it('does not inject twice', () => {
    const twice = pod();
    twice.spec!.containers.push({ name: 'executor', image: 'x' });
    expect(injectExecutor(twice, executor)).toEqual({ allowed: true, patch: [] });
  });

  it.each<[string, Record<string, string>, { containerPort: number }[], string]>([
    ['no port anywhere', {}, [], 'metadata.annotations[wharf.dev/executor-upstream-port]: Required value'],
    ['a port out of range', { 'wharf.dev/executor-upstream-port': '70000' }, [], 'executor-upstream-port]: Invalid value: "70000"'],
    ["the executor's own port", { 'wharf.dev/executor-upstream-port': '8000' }, [], 'the executor listens there itself'],
    ['an unknown mode', { 'wharf.dev/executor-mode': 'batch' }, [{ containerPort: 9000 }], 'executor-mode]: Unsupported value: "batch"'],
    ['a concurrency out of range', { 'wharf.dev/executor-concurrency': '0' }, [{ containerPort: 9000 }], 'executor-concurrency]: Invalid value'],
  ])('refuses %s, naming the annotation', (_what, annotations, ports, message) => {
    const result = injectExecutor(pod(undefined, annotations, ports), executor);
    expect(result.allowed).toBe(false);
    expect((result as { message: string }).message).toContain(message);
  });
});
