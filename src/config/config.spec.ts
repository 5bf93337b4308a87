import { CONFIG_VARIABLES, ConfigError, loadConfig } from './config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('runs on defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(8080);
    expect(config.DATA_DIR).toBe('./data');
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.LOG_LEVEL).toBe('info');
    expect(config.dataDir).toMatch(/\/data$/);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' }).PORT).toBe(8080);
  });

  it('lists every bad variable as NAME=value: reason', () => {
    const problems = problemsOf({ PORT: '70000', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' });
    expect(problems).toHaveLength(3);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT="70000": /),
        expect.stringMatching(/^LOG_LEVEL="loud": /),
        expect.stringMatching(/^DATABASE_URL="mysql:\/\/x": must be a postgres/),
      ]),
    );
  });

  it('never prints a secret value', () => {
    const problems = problemsOf({ WHARF_ADMIN_TOKEN: 'short secret', DATABASE_URL: 'postgres://u:hunter2@db/x', PORT: 'x' });
    const text = problems.join('\n');
    expect(text).toContain('WHARF_ADMIN_TOKEN=****');
    expect(text).not.toContain('short secret');
    expect(text).not.toContain('hunter2');
  });

  it('masks the password inside DATABASE_URL', () => {
    const problems = problemsOf({ DATABASE_URL: 'postgres://wharf:hunter2@db:5432/wharf', PORT: '-1' });
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('requires S3 credentials once an S3 endpoint is set', () => {
    expect(problemsOf({ S3_ENDPOINT: 'http://minio:9000' })[0]).toMatch(/S3_ACCESS_KEY=\(unset\): .*required/);
  });

  it('allows no cross-origin access by default and reads a list of origins or *', () => {
    expect(loadConfig({}).CORS_ALLOWED_ORIGINS).toEqual([]);
    expect(loadConfig({ CORS_ALLOWED_ORIGINS: 'https://console.example.com, http://localhost:3000' }).CORS_ALLOWED_ORIGINS).toEqual([
      'https://console.example.com',
      'http://localhost:3000',
    ]);
    expect(loadConfig({ CORS_ALLOWED_ORIGINS: '*' }).CORS_ALLOWED_ORIGINS).toEqual(['*']);
  });

  it.each(['console.example.com', 'https://console.example.com/', 'https://console.example.com/app', 'ftp://x.example.com', '*, https://a.example.com'])(
    'refuses CORS_ALLOWED_ORIGINS=%s, which is not an origin list',
    (value) => {
      expect(problemsOf({ CORS_ALLOWED_ORIGINS: value })).toEqual([expect.stringMatching(/^CORS_ALLOWED_ORIGINS=.*: must be \* or comma-separated origins/)]);
    },
  );

  it('knows every variable by name', () => {
    expect(CONFIG_VARIABLES).toEqual(expect.arrayContaining(['PORT', 'DATA_DIR', 'DATABASE_URL', 'WHARF_ADMIN_TOKEN', 'LOG_LEVEL']));
  });
});
