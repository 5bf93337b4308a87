import { Command } from 'commander';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildProgram, run } from '../../src/cli/main';
import { runCli } from '../support/cli';

/** Every command the CLI has, subcommands of subcommands included, by its full name. */
function commandsOf(command: Command, prefix: string[] = []): { name: string[]; command: Command }[] {
  return command.commands.flatMap((sub) => {
    const name = [...prefix, sub.name()];
    return [{ name, command: sub }, ...commandsOf(sub, name)];
  });
}

/** Runs the CLI in this process; a usage error must come back as a code, never end the process. */
async function exitCodeOf(args: string[]): Promise<number> {
  const exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
    throw new Error(`process.exit(${String(code)}) called instead of returning a code`);
  });
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return await run(['node', 'wharf', ...args]);
  } finally {
    exit.mockRestore();
    stderr.mockRestore();
    stdout.mockRestore();
  }
}

describe('wharf usage errors', () => {
  const commands = commandsOf(buildProgram());

  it('knows the commands it checks (the walk finds subcommands of subcommands)', () => {
    const names = commands.map(({ name }) => name.join(' '));
    expect(names).toEqual(expect.arrayContaining(['push', 'tag', 'split', 'token', 'token create', 'token revoke']));
  });

  it.each(commands.map(({ name }) => [name.join(' '), name]))('`wharf %s --bogus` exits 2', async (_label, name) => {
    await expect(exitCodeOf([...name, '--bogus'])).resolves.toBe(2);
  });

  const withRequired = commands.filter(({ command }) => command.registeredArguments.some((argument) => argument.required));
  it.each(withRequired.map(({ name, command }) => [name.join(' '), name, command.registeredArguments.filter((a) => a.required).length]))(
    '`wharf %s` missing its last required argument exits 2',
    async (_label, name, required) => {
      await expect(exitCodeOf([...(name as string[]), ...Array.from({ length: (required as number) - 1 }, () => 'vision/resnet50@1')])).resolves.toBe(2);
    },
  );

  it.each([
    [['tag', 'vision/resnet50@1', 'prod', 'extra']],
    [['tag', 'vision/resnet50@1', 'prod', '--reason']],
    [['token', 'create', 'ci', '--role', 'owner']],
    [['token']],
  ])('`wharf %j` exits 2', async (args) => {
    await expect(exitCodeOf(args)).resolves.toBe(2);
  });

  it('`wharf tag vision/resnet50@1` as a shell runs it: exit 2 with the usage hint and no stack', async () => {
    const result = await runCli(['tag', 'vision/resnet50@1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/missing required argument 'tag'/);
    expect(result.stderr).toMatch(/run with --help for usage/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('help still exits 0 for every command', async () => {
    for (const { name } of commands) await expect(exitCodeOf([...name, '--help'])).resolves.toBe(0);
  });
});

/** deploy/'s files and the Dockerfile: where operators copy `wharf …` lines from comments. */
function deployFiles(dir = path.resolve(__dirname, '../../deploy')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? deployFiles(path.join(dir, entry.name)) : /\.(ya?ml|md|sh)$/.test(entry.name) ? [path.join(dir, entry.name)] : [],
  );
}

describe('wharf command lines quoted in deploy/ and the Dockerfile', () => {
  const program = buildProgram();
  const globals = program.options.map((option) => option.long);
  const lines = [...deployFiles(), path.resolve(__dirname, '../../Dockerfile')].flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/(?:^|[\s`#(])wharf ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?([^`\n]*)/g)]
      .filter((match) => program.commands.some((command) => command.name() === match[1]))
      .map((match) => ({ file: path.basename(file), line: match[0].trim(), words: [match[1], match[2]], rest: match[3] })),
  );

  it('are found (the Dockerfile, the entrypoint and deploy/README.md show some)', () => {
    expect(lines.length).toBeGreaterThan(0);
  });

  it('name only commands and options the CLI has', () => {
    for (const { file, line, words, rest } of lines) {
      let command = program.commands.find((entry) => entry.name() === words[0])!;
      const sub = command.commands.find((entry) => entry.name() === words[1]);
      if (sub) command = sub;
      const known = [...globals, ...command.options.map((option) => option.long)];
      const flags = [...`${sub ? '' : (words[1] ?? '')} ${rest}`.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((match) => match[1]);
      expect({ file, line, unknown: flags.filter((flag) => !known.includes(flag)) }).toEqual({ file, line, unknown: [] });
    }
  });
});
