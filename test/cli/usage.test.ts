import { Command } from 'commander';
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
