import { Command } from 'commander';
import { CliContext, parseFullReference, parseModelName } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { formatBytes } from '../output';
import { pull } from '../transfer/pull';
import { push } from '../transfer/push';

function positiveInteger(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new CliError(`"${value}" is not a positive whole number`, EXIT.usage);
  return Number(value);
}

/** `--metadata key=value`: the value is JSON when it parses (numbers, booleans, objects), else a string. */
function metadataEntry(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new CliError(`--metadata "${value}" is not key=value`, EXIT.usage);
  const raw = value.slice(eq + 1);
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // a plain string
  }
  return { ...previous, [value.slice(0, eq)]: parsed };
}

export function pushCommand(context: () => CliContext): Command {
  return new Command('push')
    .description('Push a file or a directory as a new version: parallel, resumable, verified; then commit and tag')
    .argument('<project/model>')
    .argument('<path>', 'a file, or a directory pushed with its layout')
    .option('--tag <tag>', 'tag the new version (e.g. staging)')
    .option('--description <text>', 'what this version is')
    .option('--metadata <key=value>', 'version metadata (repeat; JSON values allowed: top1=0.76)', metadataEntry)
    .option('--concurrency <n>', 'parts sent at once', positiveInteger, 4)
    .addHelpText('after', '\nRun the same push again after an interruption: finished parts and files are not sent twice.')
    .action(async (name: string, source: string, options: { tag?: string; description?: string; metadata?: Record<string, unknown>; concurrency: number }) => {
      const ctx = context();
      const { project, model } = parseModelName(name);
      const result = await push(await ctx.client(), {
        project,
        model,
        source,
        concurrency: options.concurrency,
        description: options.description,
        metadata: options.metadata,
        tag: options.tag,
        progress: ctx.out.interactive ? process.stderr : null,
      });
      ctx.out.result(result, () =>
        [
          `Pushed ${result.project}/${result.model}@${result.version}${result.tag ? ` (tagged ${result.tag})` : ''}${result.resumed ? ', resumed' : ''}`,
          `  digest ${result.manifestDigest}`,
          `  ${result.files.length} file(s), ${formatBytes(result.bytesSent)} sent, ${result.files.filter((file) => file.skipped).length} already on the registry`,
        ].join('\n'),
      );
    });
}

export function pullCommand(context: () => CliContext): Command {
  return new Command('pull')
    .description('Download a version into a directory: ranged parallel GETs, every sha256 verified, files replaced atomically')
    .argument('<ref>', 'project/model:tag, project/model@3 or project/model@sha256:…')
    .argument('<directory>')
    .option('--concurrency <n>', 'ranged GETs at once', positiveInteger, 8)
    .option('--chunk-size <bytes>', 'bytes per ranged GET', positiveInteger, 8 * 1024 * 1024)
    .action(async (ref: string, directory: string, options: { concurrency: number; chunkSize: number }) => {
      const ctx = context();
      const { project, model, selector } = parseFullReference(ref);
      const result = await pull(await ctx.client(), {
        project,
        model,
        ref: selector,
        destination: directory,
        concurrency: options.concurrency,
        chunkSize: options.chunkSize,
        progress: ctx.out.interactive ? process.stderr : null,
      });
      ctx.out.result(result, () =>
        [
          `Pulled ${result.project}/${result.model}@${result.version} into ${result.destination}`,
          `  digest ${result.manifestDigest}`,
          `  ${result.files.length} file(s) verified, ${formatBytes(result.bytesReceived)} downloaded, ${result.files.filter((file) => file.skipped).length} already there`,
        ].join('\n'),
      );
    });
}
