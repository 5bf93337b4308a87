import { loadOperatorConfig, OperatorConfigError } from './config';

const base = { WHARF_TOKEN: 'wharf_secret_token' };

function problems(env: Record<string, string>): string[] {
  try {
    loadOperatorConfig(env);
  } catch (error) {
    if (error instanceof OperatorConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadOperatorConfig', () => {
  it('fills in defaults that run the operator in-cluster', () => {
    const config = loadOperatorConfig(base);
    expect(config).toMatchObject({ CONCURRENT_RECONCILES: 4, RETRY_BASE_MS: 5, RETRY_MAX_MS: 1_000_000, NODE_CACHE_DIR: '/var/cache/wharf', NODE_AGENT_PORT: 7070 });
  });

  it.each([
    [{}, /^WHARF_TOKEN=\(unset\): .*required/],
    [{ ...base, REGISTRY_URL: 'ftp://x' }, /^REGISTRY_URL="ftp:\/\/x": /],
    [{ ...base, CONCURRENT_RECONCILES: '0' }, /^CONCURRENT_RECONCILES="0": /],
    [{ ...base, WEBHOOK_CERT_FILE: '/tls.crt' }, /set both or neither/],
    [{ ...base, RETRY_BASE_MS: '5000', RETRY_MAX_MS: '100' }, /RETRY_BASE_MS="5000": must not exceed/],
    [{ ...base, NODE_CACHE_DIR: 'relative' }, /^NODE_CACHE_DIR="relative": must be an absolute path/],
    [{ ...base, RENEW_DEADLINE_MS: '20000' }, /^RENEW_DEADLINE_MS="20000": must lie between/],
    [{ ...base, WATCH_NAMESPACE: 'Bad_NS' }, /^WATCH_NAMESPACE="Bad_NS": must be a namespace name/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(problems(env as Record<string, string>)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });

  it('masks the token in what it prints', () => {
    const listed = problems({ WHARF_TOKEN: 'sekrit', CONCURRENT_RECONCILES: 'x' });
    expect(listed.join('\n')).not.toContain('sekrit');
  });
});
