import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { parse } from 'yaml';

/**
 * No container engine runs where the suite runs, so the image is never built here: these checks
 * hold the Dockerfile to what a build needs (stages that exist, sources that reach the build
 * context) and to what it promises (a non-root user, an entrypoint per program that `npm run
 * build` produces). The entrypoint itself is a shell script, run here against this checkout.
 */
const ROOT = path.resolve(__dirname, '../..');
const ENTRYPOINT = 'deploy/image/entrypoint.sh';

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  base: string;
  name?: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages and their instructions, continuation lines joined, comments dropped. */
function stagesOf(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [keyword, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') {
      const match = args.match(/^(\S+)(?:\s+AS\s+(\S+))?$/i)!;
      stages.push({ base: match[1], name: match[2], instructions: [] });
    } else if (stages.length) {
      stages[stages.length - 1].instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/** The patterns of .dockerignore in order; a later `!pattern` takes a path back. */
function inBuildContext(file: string): boolean {
  const patterns = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  let included = true;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const body = negated ? pattern.slice(1) : pattern;
    const glob = new RegExp(`^${body.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/.*)?$`);
    if (glob.test(file)) included = negated;
  }
  return included;
}

/** The programs of the entrypoint: name → the compiled file it runs. */
function entrypointPrograms(): Map<string, string> {
  const script = readFileSync(path.join(ROOT, ENTRYPOINT), 'utf8');
  return new Map([...script.matchAll(/^\s+([a-z-]+)\) run (dist\/\S+\.js)/gm)].map((match) => [match[1], match[2]]));
}

function runEntrypoint(args: string[]) {
  return spawnSync('sh', [path.join(ROOT, ENTRYPOINT), ...args], { env: { PATH: process.env.PATH, WHARF_APP_DIR: ROOT }, encoding: 'utf8' });
}

describe('the Dockerfile', () => {
  const stages = stagesOf(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const final = stages[stages.length - 1];
  const build = stages.find((stage) => stage.instructions.some((instruction) => instruction.keyword === 'RUN' && instruction.args.includes('npm run build')))!;
  const copies = (stage: Stage) => stage.instructions.filter((instruction) => instruction.keyword === 'COPY');

  it('builds in several named stages, each COPY --from naming an earlier one', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build).toBeDefined();
    expect(build).not.toBe(final);
    stages.forEach((stage, index) => {
      for (const copy of copies(stage)) {
        const from = copy.args.match(/--from=(\S+)/)?.[1];
        if (from) expect(stages.slice(0, index).map((earlier) => earlier.name)).toContain(from);
      }
    });
    // The runtime carries no compiler: it never runs the build, and installs production dependencies only.
    const runs = stages.flatMap((stage) => stage.instructions.filter((instruction) => instruction.keyword === 'RUN').map((instruction) => ({ stage, args: instruction.args })));
    expect(runs.filter(({ stage, args }) => stage === final && /npm (ci|install|run build)/.test(args))).toEqual([]);
    expect(runs.some(({ args }) => /npm ci .*--omit=dev/.test(args))).toBe(true);
  });

  it('runs as a numeric non-root user in its final stage', () => {
    const users = final.instructions.filter((instruction) => instruction.keyword === 'USER').map((instruction) => instruction.args);
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1].split(':')[0];
    expect(user).toMatch(/^[0-9]+$/);
    expect(Number(user)).toBeGreaterThan(0);
  });

  it('copies into the build every source `npm run build` compiles, all inside the build context', () => {
    const tsconfig = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { extends: string; include: string[] };
    const copied = copies(build).filter((copy) => !copy.args.includes('--from')).flatMap((copy) => copy.args.split(/\s+/).slice(0, -1));
    // `npm run build` is `node scripts/build.js`: the script has to be there too.
    const buildScripts = [...(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { build: string } }).scripts.build.matchAll(/node (\S+)/g)].map((match) => match[1]);
    for (const needed of [...tsconfig.include, ...buildScripts, 'tsconfig.build.json', tsconfig.extends.replace(/^\.\//, ''), 'package.json', 'package-lock.json']) {
      expect(copied).toContain(needed);
    }
    for (const stage of stages) {
      for (const copy of copies(stage).filter((entry) => !entry.args.includes('--from'))) {
        for (const source of copy.args.split(/\s+/).slice(0, -1)) {
          expect({ source, exists: existsSync(path.join(ROOT, source)), inContext: inBuildContext(source) }).toEqual({ source, exists: true, inContext: true });
        }
      }
    }
  });

  it('leaves the host’s dependencies, build output, data and git out of the build context', () => {
    for (const file of ['node_modules/x', 'dist/src/main.js', 'data/initial-admin-token', '.git/HEAD', '.env']) expect({ file, inContext: inBuildContext(file) }).toEqual({ file, inContext: false });
    expect(inBuildContext(ENTRYPOINT)).toBe(true);
  });

  it('starts every program through its entrypoint, which the final stage holds', () => {
    const entrypoint = final.instructions.find((instruction) => instruction.keyword === 'ENTRYPOINT')!;
    const target = (JSON.parse(entrypoint.args) as string[])[0];
    expect(copies(final).some((copy) => copy.args === `${ENTRYPOINT} ${target}`)).toBe(true);
    expect(final.instructions.find((instruction) => instruction.keyword === 'CMD')?.args).toBe('["registry"]');
  });
});

/** The compiled programs' sources: what the image runs. */
function programSources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return programSources(file);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [file] : [];
  });
}

describe('the image’s production dependencies', () => {
  it('hold every package the programs load at run time (type-only imports vanish in the build)', () => {
    const packageJson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const tsconfig = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    const missing = new Set<string>();
    for (const file of tsconfig.include.flatMap((dir) => programSources(dir))) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      const loaded = [...text.matchAll(/^import (?!type )[^;]*?from '([^'.][^']*)'|require\('([^'.][^']*)'\)|import\('([^'.][^']*)'\)/gm)].map((match) => match[1] ?? match[2] ?? match[3]);
      for (const specifier of loaded) {
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
        if (!name.startsWith('node:') && !builtinModules.includes(name) && !packageJson.dependencies[name]) missing.add(`${name} (${file})`);
      }
    }
    expect([...missing]).toEqual([]);
  });
});

describe("the image's entrypoint", () => {
  const programs = entrypointPrograms();

  it('names the registry, node agent, migrations, CLI, operator and executor', () => {
    expect([...programs.keys()].sort()).toEqual(['executor', 'migrate', 'node-agent', 'operator', 'registry', 'wharf']);
  });

  it('points each program that exists at a file `npm run build` produces, and the rest at where they will be', () => {
    const tsconfig = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    for (const [program, compiled] of programs) {
      const source = compiled.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      if (['operator', 'executor'].includes(program) && !existsSync(path.join(ROOT, source))) continue;
      expect({ program, source, exists: existsSync(path.join(ROOT, source)) }).toEqual({ program, source, exists: true });
      expect(tsconfig.include).toContain(source.split('/')[0]);
      expect({ program, built: existsSync(path.join(ROOT, compiled)) }).toEqual({ program, built: true });
    }
  });

  it('runs the program it is given, with its arguments', () => {
    const version = runEntrypoint(['wharf', '--version']);
    expect({ status: version.status, stdout: version.stdout.trim() }).toEqual({ status: 0, stdout: (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version });
  });

  it('refuses a program this image does not hold yet, or does not know, with exit 64', () => {
    for (const program of ['operator', 'executor', 'bogus']) {
      const result = runEntrypoint([program]);
      if (program !== 'bogus' && existsSync(path.join(ROOT, programs.get(program)!))) continue;
      expect({ program, status: result.status }).toEqual({ program, status: 64 });
      expect(result.stderr).toMatch(program === 'bogus' ? /unknown program "bogus"/ : /is not in this image yet/);
    }
  });
});

describe('docker-compose.yml builds the registry from the Dockerfile', () => {
  const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { build?: { context: string; dockerfile: string }; volumes?: string[]; command?: unknown; image?: string }>;
  };
  const registry = compose.services.registry;

  it('builds the image instead of mounting the checkout and installing into it', () => {
    expect(registry.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    expect((registry.volumes ?? []).filter((volume) => volume.split(':')[0].startsWith('.'))).toEqual([]);
    expect(JSON.stringify(registry.command ?? '')).not.toMatch(/npm/);
    expect(registry.image).toMatch(/^ghcr\.io\/wharf\/wharf:/);
  });
});
