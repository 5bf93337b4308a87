import { EXECUTOR_VARIABLES, ExecutorConfigError, loadExecutorConfig } from './config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadExecutorConfig(env);
  } catch (error) {
    if (error instanceof ExecutorConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected an ExecutorConfigError');
}

const REGISTRY = { REGISTRY_URL: 'http://registry:8080', REGISTRY_TOKENREVIEW_TOKEN: 'reviewer-token-0123456789abcdef' };

describe('loadExecutorConfig', () => {
  it('runs with defaults once callers can be checked', () => {
    const config = loadExecutorConfig(REGISTRY);
    expect(config).toMatchObject({ EXECUTOR_PORT: 8000, UPSTREAM_URL: 'http://127.0.0.1:8080', CONCURRENCY: 16, QUEUE_DEPTH: 64, UPSTREAM_TIMEOUT: 60_000, ALLOW_ANONYMOUS: false, RATE_LIMIT: null });
    expect(config.MAX_REQUEST_BYTES).toBe(2 * 1024 ** 3);
  });

  it('reads sizes, durations and rate limits', () => {
    const config = loadExecutorConfig({ ...REGISTRY, MAX_REQUEST_BYTES: '10Mi', UPSTREAM_TIMEOUT: '500ms', RATE_LIMIT: '600/60s+20', ASYNC_RESULT_TTL: '2h' });
    expect(config.MAX_REQUEST_BYTES).toBe(10 * 1024 ** 2);
    expect(config.UPSTREAM_TIMEOUT).toBe(500);
    expect(config.RATE_LIMIT).toEqual({ perSecond: 10, burst: 20 });
    expect(config.ASYNC_RESULT_TTL).toBe(7_200_000);
  });

  it('lists every bad variable as NAME=value: reason', () => {
    const problems = problemsOf({ ...REGISTRY, EXECUTOR_PORT: '70000', UPSTREAM_URL: 'ftp://x', RATE_LIMIT: 'lots', DEPLOYMENT: 'Not_A_Label' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^EXECUTOR_PORT="70000": /),
        expect.stringMatching(/^UPSTREAM_URL="ftp:\/\/x": must be an http/),
        expect.stringMatching(/^RATE_LIMIT="lots": must be/),
        expect.stringMatching(/^DEPLOYMENT="Not_A_Label": must be a DNS-1123 label/),
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('needs the registry unless anonymous access is allowed', () => {
    expect(problemsOf({})).toEqual([expect.stringMatching(/^REGISTRY_URL=\(unset\): required unless ALLOW_ANONYMOUS/), expect.stringMatching(/^REGISTRY_TOKENREVIEW_TOKEN=\(unset\)/)]);
    expect(loadExecutorConfig({ ALLOW_ANONYMOUS: 'true' }).ALLOW_ANONYMOUS).toBe(true);
  });

  it('needs Redis and S3 once async requests are on', () => {
    const problems = problemsOf({ ...REGISTRY, AMQP_URL: 'amqp://guest:guest@rabbit:5672' });
    expect(problems).toEqual([expect.stringMatching(/^REDIS_URL=\(unset\): required when AMQP_URL/), expect.stringMatching(/^S3_ENDPOINT=\(unset\): required when AMQP_URL/)]);
  });

  it('never prints a secret or a password inside a URL', () => {
    const text = problemsOf({ ALLOW_ANONYMOUS: 'true', CALLBACK_SECRET: 'short', AMQP_URL: 'amqp://user:hunter2@rabbit', REDIS_URL: 'http://:sesame@redis' }).join('\n');
    expect(text).toContain('CALLBACK_SECRET=****');
    expect(text).not.toContain('short"');
    expect(text).not.toContain('sesame');
    expect(text).not.toContain('hunter2');
  });

  it('knows every variable docs/executor.md documents', () => {
    expect(EXECUTOR_VARIABLES).toEqual(expect.arrayContaining(['UPSTREAM_URL', 'CONCURRENCY', 'AMQP_URL', 'CALLBACK_SECRET', 'RATE_LIMIT']));
  });
});
