import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { SCHEMA_FILE } from '../../scripts/console-api';
import { startTestRegistry, TestRegistry } from '../support/test-registry';

const ROOT = path.resolve(__dirname, '../..');

let wharf: TestRegistry;
let document: { paths: Record<string, unknown> };
beforeAll(async () => {
  wharf = await startTestRegistry();
  document = (await wharf.http.get('/docs-json').expect(200)).body;
});
afterAll(async () => {
  await wharf?.close();
});

/** openapi-typescript run as `npm run console:api` runs it, on the given document. */
function typesFor(doc: unknown): string {
  const run = spawnSync(process.execPath, ['-r', '@swc-node/register', 'scripts/console-api.ts', '--stdin'], { cwd: ROOT, input: JSON.stringify(doc), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`console-api.ts --stdin failed: ${run.stderr}`);
  return run.stdout;
}

/** The first line where two files part, or null when they are the same. */
function firstDifference(committed: string, generated: string): { line: number; committed?: string; registry?: string } | null {
  const [left, right] = [committed.split('\n'), generated.split('\n')];
  const index = left.findIndex((text, i) => text !== right[i]);
  if (index < 0 && left.length === right.length) return null;
  const line = index < 0 ? left.length : index;
  return { line: line + 1, committed: left[line], registry: right[line] };
}

describe("the console's API types (web/src/api/schema.d.ts)", () => {
  it('match the OpenAPI document the registry serves (run `npm run console:api` when this fails)', async () => {
    const committed = await readFile(SCHEMA_FILE, 'utf8');
    expect(firstDifference(committed, typesFor(document))).toBeNull();
  });

  it('would fail on a registry route the committed types do not know', async () => {
    const committed = await readFile(SCHEMA_FILE, 'utf8');
    const drifted = { ...document, paths: { ...document.paths, '/api/v1/brand-new': { get: { operationId: 'BrandNew_get', responses: { '200': { description: 'ok' } } } } } };
    expect(firstDifference(committed, typesFor(drifted))).toMatchObject({ registry: expect.stringContaining('brand-new') });
  });
});
