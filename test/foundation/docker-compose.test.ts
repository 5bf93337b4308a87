import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config/config';

interface ComposeFile {
  services: Record<string, { environment?: Record<string, string>; depends_on?: Record<string, unknown> }>;
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.resolve(__dirname, '../../docker-compose.yml'), 'utf8')) as ComposeFile;
  const registryEnv = compose.services.registry?.environment ?? {};

  it('runs postgres, minio and the registry', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['minio', 'postgres', 'registry']);
    expect(Object.keys(compose.services.registry.depends_on ?? {}).sort()).toEqual(['minio', 'postgres']);
  });

  it('sets only variables the registry knows', () => {
    const unknown = Object.keys(registryEnv).filter((name) => !CONFIG_VARIABLES.includes(name));
    expect(unknown).toEqual([]);
    expect(Object.keys(registryEnv)).toEqual(expect.arrayContaining(['DATABASE_URL', 'S3_ENDPOINT', 'WHARF_ADMIN_TOKEN']));
  });

  it('sets values the registry accepts', () => {
    expect(() => loadConfig(registryEnv)).not.toThrow();
  });

  it('points the registry at the compose services with their own credentials', () => {
    const postgres = compose.services.postgres.environment!;
    const minio = compose.services.minio.environment!;
    expect(registryEnv.DATABASE_URL).toBe(
      `postgres://${postgres.POSTGRES_USER}:${postgres.POSTGRES_PASSWORD}@postgres:5432/${postgres.POSTGRES_DB}`,
    );
    expect(registryEnv.S3_ACCESS_KEY).toBe(minio.MINIO_ROOT_USER);
    expect(registryEnv.S3_SECRET_KEY).toBe(minio.MINIO_ROOT_PASSWORD);
    expect(new URL(registryEnv.S3_ENDPOINT).hostname).toBe('minio');
  });
});
