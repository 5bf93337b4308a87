import { AgentConfigError, loadAgentConfig, parseBytes, parseDuration, parseLabels } from './config';

const base = { NODE_NAME: 'node-1', REGISTRY_URL: 'http://127.0.0.1:8080', WHARF_TOKEN: 'secret-token' };

describe('node agent config', () => {
  it.each([
    ['50Gi', 50 * 1024 ** 3],
    ['500M', 500e6],
    ['1048576', 1048576],
    ['1.5Ki', 1536],
    ['16Mi', 16 * 1024 ** 2],
    ['1e9', 1e9],
    // Kubernetes' quantity rules (kube-runtime/quantity.ts): m is milli, suffixes are case-sensitive.
    ['500m', undefined],
    ['16mi', undefined],
    ['lots', undefined],
    ['-1', undefined],
  ])('reads the byte size %s as %s', (raw, expected) => {
    expect(parseBytes(raw)).toBe(expected);
  });

  it.each([
    ['60s', 60_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['10', 10_000],
    ['soon', undefined],
  ])('reads the duration %s as %s ms', (raw, expected) => {
    expect(parseDuration(raw)).toBe(expected);
  });

  it.each([
    ['gpu=a100,zone=eu-1a', { gpu: 'a100', zone: 'eu-1a' }],
    ['', {}],
    ['gpu', undefined],
    ['=x', undefined],
  ])('reads the labels %j', (raw, expected) => {
    expect(parseLabels(raw)).toEqual(expected);
  });

  it('starts with defaults from the three required variables', () => {
    const config = loadAgentConfig(base);
    expect(config).toMatchObject({ CACHE_BUDGET: 50 * 1024 ** 3, HIGH_WATERMARK: 0.9, LOW_WATERMARK: 0.75, HEARTBEAT_INTERVAL: 10_000, AGENT_PORT: 7070 });
    expect(config.cacheDir).toBe('/var/cache/wharf');
  });

  it('lists every bad variable and never shows the token', () => {
    let error: unknown;
    try {
      loadAgentConfig({ NODE_NAME: 'Node_1', REGISTRY_URL: 'ftp://x', WHARF_TOKEN: '', CACHE_BUDGET: 'lots', HEARTBEAT_INTERVAL: '1ms' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AgentConfigError);
    const problems = (error as AgentConfigError).problems.map((line) => line.split('=')[0]);
    expect(problems.sort()).toEqual(['CACHE_BUDGET', 'HEARTBEAT_INTERVAL', 'NODE_NAME', 'REGISTRY_URL', 'WHARF_TOKEN']);
    expect(() => loadAgentConfig({ ...base, NODE_LABELS: 'gpu', WHARF_TOKEN: 'hunter2' })).toThrow(/NODE_LABELS="gpu"/);
    expect(() => loadAgentConfig({ ...base, NODE_LABELS: 'gpu', WHARF_TOKEN: 'hunter2' })).not.toThrow(/hunter2/);
  });

  it('refuses a byte budget of 500m (0.5 by Kubernetes rules), naming the variable and the fix', () => {
    expect(() => loadAgentConfig({ ...base, CACHE_BUDGET: '500m' })).toThrow(AgentConfigError);
    expect(() => loadAgentConfig({ ...base, CACHE_BUDGET: '500m' })).toThrow(/CACHE_BUDGET="500m": .*m means milli .*write 500M .* or 500Mi/);
    expect(() => loadAgentConfig({ ...base, CHUNK_SIZE: '16mi' })).toThrow(/CHUNK_SIZE="16mi": .*binary suffixes are written Ki, Mi, Gi/);
    expect(loadAgentConfig({ ...base, CACHE_BUDGET: '500M', PULL_RATE_LIMIT: '1e6' })).toMatchObject({ CACHE_BUDGET: 500e6, PULL_RATE_LIMIT: 1e6 });
  });

  it('refuses a low watermark at or above the high one', () => {
    expect(() => loadAgentConfig({ ...base, HIGH_WATERMARK: '0.5', LOW_WATERMARK: '0.6' })).toThrow(/LOW_WATERMARK="0.6": must be below/);
  });
});
