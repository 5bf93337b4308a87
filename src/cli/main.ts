#!/usr/bin/env node
import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { lsCommand, showCommand, versionsCommand } from './commands/browse';
import { loginCommand } from './commands/login';
import { releaseCommands } from './commands/release';
import { pullCommand, pushCommand } from './commands/transfer';
import { tokenCommand } from './commands/token';
import { CliContext, GlobalOptions } from './context';
import { describeError, EXIT, exitCodeOf } from './exit-codes';

function packageVersion(): string {
  // dist/src/cli or src/cli: package.json is two or three levels up.
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      return (require(candidate) as { version: string }).version;
    } catch {
      // try the next location
    }
  }
  return 'unknown';
}

export function buildProgram(): Command {
  const program = new Command('wharf')
    .description('Push, pull and release model versions with a Wharf registry')
    .option('--url <url>', 'registry URL (or WHARF_URL; default: saved by `wharf login`)')
    .option('--token <token>', 'API token (or WHARF_TOKEN; default: saved by `wharf login`)')
    .option('--json', 'print results as JSON for scripts')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failure, 2 usage, 3 authentication/permission, 4 not found, 5 conflict,
6 invalid input, 7 registry unavailable, 8 integrity check failed, 130 interrupted.`,
    )
    .exitOverride();
  let context: CliContext | undefined;
  const contextOf = () => (context ??= new CliContext(program.opts<GlobalOptions>()));
  for (const command of [loginCommand, pushCommand, pullCommand, lsCommand, showCommand, versionsCommand, tokenCommand]) {
    program.addCommand(command(contextOf));
  }
  for (const command of releaseCommands(contextOf)) program.addCommand(command);
  forEachSubcommand(program, (command) => command.exitOverride().showHelpAfterError('(run with --help for usage)'));
  return program;
}

/**
 * Commander copies exitOverride and the help hint only to subcommands made with `.command()`;
 * ours are built apart and added, so without this a subcommand's usage error (a missing
 * argument, an unknown option) called process.exit(1) itself instead of reaching `run`, which
 * answers every usage error with exit code 2.
 */
function forEachSubcommand(command: Command, apply: (command: Command) => void): void {
  for (const subcommand of command.commands) {
    apply(subcommand);
    forEachSubcommand(subcommand, apply);
  }
}

export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version output end here too, with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`wharf: ${describeError(error)}\n`);
    return exitCodeOf(error);
  }
}

/** The `wharf` executable: run, then exit with the command's code. */
export function cliMain(): void {
  process.once('SIGINT', () => process.exit(EXIT.interrupted));
  // `wharf ls | head` closes the pipe early; that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT.ok);
    throw error;
  });
  void run(process.argv).then((code) => process.exit(code));
}

if (require.main === module) cliMain();
