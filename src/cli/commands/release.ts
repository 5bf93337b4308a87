import { Command } from 'commander';
import { CliContext, parseFullReference, parseProjectName } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { ago, table } from '../output';
import type { EndpointDto } from '../../endpoints/dto/endpoint.dto';
import type { TagDto, TagHistoryEntryDto } from '../../tags/dto/tag.dto';

/** `project/model:tag`, the only form tag commands take. */
function parseTagRef(value: string): { project: string; model: string; tag: string } {
  const { project, model, selector } = parseFullReference(value);
  if (!selector.startsWith(':')) throw new CliError(`"${value}" must name a tag: project/model:tag`, EXIT.usage);
  return { project, model, tag: selector.slice(1) };
}

function describeTag(tag: TagDto): string {
  return `${tag.project}/${tag.model}:${tag.name} -> @${tag.version}${tag.pinned ? ` (pinned by ${tag.pinnedBy})` : ''}`;
}

function tagCommand(context: () => CliContext): Command {
  return new Command('tag')
    .description('Point a tag at a version: wharf tag project/model@3 prod')
    .argument('<ref>', 'the version: project/model@3, project/model@sha256:… or project/model:other-tag')
    .argument('<tag>', 'the tag to move or create')
    .option('--reason <text>', 'kept in the tag history')
    .action(async (ref: string, name: string, options: { reason?: string }) => {
      const ctx = context();
      const { project, model, selector } = parseFullReference(ref);
      const moved = await (await ctx.client()).moveTag(project, model, name, { ref: selector, reason: options.reason });
      ctx.out.result(moved, () => describeTag(moved));
    });
}

function pinCommand(context: () => CliContext): Command {
  return new Command('pin')
    .description('Pin a tag (where it is, or at --version): it refuses moves until unpinned')
    .argument('<project/model:tag>')
    .option('--version <n>', 'pin at this version')
    .option('--reason <text>', 'kept in the tag history')
    .action(async (ref: string, options: { version?: string; reason?: string }) => {
      const ctx = context();
      const { project, model, tag: name } = parseTagRef(ref);
      if (options.version !== undefined && !/^[1-9][0-9]*$/.test(options.version)) throw new CliError('--version takes a version number', EXIT.usage);
      const pinned = await (await ctx.client()).pinTag(project, model, name, {
        version: options.version === undefined ? undefined : Number(options.version),
        reason: options.reason,
      });
      ctx.out.result(pinned, () => describeTag(pinned));
    });
}

function unpinCommand(context: () => CliContext): Command {
  return new Command('unpin')
    .description('Unpin a tag so it can move again')
    .argument('<project/model:tag>')
    .option('--reason <text>', 'kept in the tag history')
    .action(async (ref: string, options: { reason?: string }) => {
      const ctx = context();
      const { project, model, tag: name } = parseTagRef(ref);
      const unpinned = await (await ctx.client()).unpinTag(project, model, name, options.reason);
      ctx.out.result(unpinned, () => describeTag(unpinned));
    });
}

function rollbackCommand(context: () => CliContext): Command {
  return new Command('rollback')
    .description('Move a tag back to its previous version and pin it there')
    .argument('<project/model:tag>')
    .option('--reason <text>', 'kept in the tag history')
    .action(async (ref: string, options: { reason?: string }) => {
      const ctx = context();
      const { project, model, tag: name } = parseTagRef(ref);
      const rolled = await (await ctx.client()).rollbackTag(project, model, name, options.reason);
      ctx.out.result(rolled, () => `Rolled back: ${describeTag(rolled)}`);
    });
}

function historyCommand(context: () => CliContext): Command {
  return new Command('history')
    .description("A tag's moves, newest first: who, when, from, to, why")
    .argument('<project/model:tag>')
    .action(async (ref: string) => {
      const ctx = context();
      const { project, model, tag: name } = parseTagRef(ref);
      const client = await ctx.client();
      const entries: TagHistoryEntryDto[] = [];
      let before: number | undefined;
      do {
        const page = await client.tagHistory(project, model, name, { before });
        entries.push(...page.items);
        before = page.nextBefore ?? undefined;
      } while (before !== undefined);
      ctx.out.result(entries, () =>
        table(
          ['SEQ', 'ACTION', 'FROM', 'TO', 'BY', 'WHEN', 'REASON'],
          entries.map((entry) => [entry.seq, entry.action, entry.from, entry.to, entry.actor, ago(entry.at), entry.reason || null]),
        ),
      );
    });
}

function resolveCommand(context: () => CliContext): Command {
  return new Command('resolve')
    .description('The concrete version a reference names')
    .argument('<ref>', 'project/model:tag, project/model@3 or project/model@sha256:…')
    .action(async (ref: string) => {
      const ctx = context();
      const { project, model, selector } = parseFullReference(ref);
      const resolved = await (await ctx.client()).resolve(project, model, selector);
      ctx.out.result(resolved, () => `${resolved.reference}  ${resolved.state}  ${resolved.manifestDigest}`);
    });
}

function splitCommand(context: () => CliContext): Command {
  return new Command('split')
    .description('Set the traffic routes of an endpoint: wharf split vision/web resnet:prod=90 resnet@8=10')
    .argument('<project/endpoint>')
    .argument('<route...>', 'model:tag=weight, model@3=weight (weights are whole percents summing to 100)')
    .option('--mirror <ref=percent>', 'also send a copy of this share of requests to ref (shadow traffic)')
    .option('--sticky-header <header>', 'keep each value of this request header on one route')
    .action(async (name: string, routes: string[], options: { mirror?: string; stickyHeader?: string }) => {
      const ctx = context();
      const [project, endpoint, ...rest] = name.split('/');
      if (!endpoint || rest.length) throw new CliError(`"${name}" is not <project>/<endpoint>`, EXIT.usage);
      parseProjectName(project);
      const body = {
        routes: routes.map((route) => weighted(route, 'route')).map(({ ref, amount }) => ({ ref, weight: amount })),
        mirror: options.mirror === undefined ? undefined : (({ ref, amount }) => ({ ref, percent: amount }))(weighted(options.mirror, '--mirror')),
        stickyHeader: options.stickyHeader,
      };
      const saved = await (await ctx.client()).putEndpoint(project, endpoint, body);
      ctx.out.result(saved, () => describeEndpoint(saved));
    });
}

function routeCommand(context: () => CliContext): Command {
  return new Command('route')
    .description('Which version an endpoint serves a request key with')
    .argument('<project/endpoint>')
    .option('--key <key>', 'the sticky key (e.g. a user id); without it, a weighted random choice')
    .action(async (name: string, options: { key?: string }) => {
      const ctx = context();
      const [project, endpoint] = name.split('/');
      if (!endpoint) throw new CliError(`"${name}" is not <project>/<endpoint>`, EXIT.usage);
      const decision = await (await ctx.client()).route(parseProjectName(project), endpoint, options.key);
      ctx.out.result(decision, () => `${decision.route.reference}${decision.mirror ? ` (mirrored to ${decision.mirror.reference})` : ''}`);
    });
}

/** The release commands: tags, resolving and traffic splits. */
/** `ref=number`, as split's routes and --mirror take them. */
function weighted(value: string, what: string): { ref: string; amount: number } {
  const eq = value.lastIndexOf('=');
  if (eq <= 0 || !/^[0-9]+$/.test(value.slice(eq + 1))) throw new CliError(`${what} "${value}" is not ref=number`, EXIT.usage);
  return { ref: value.slice(0, eq), amount: Number(value.slice(eq + 1)) };
}

function describeEndpoint(saved: EndpointDto): string {
  return [
    `${saved.project}/${saved.name} (generation ${saved.generation})`,
    table(['WEIGHT', 'ROUTE', 'VERSION'], saved.routes.map((route) => [`${route.weight}%`, route.ref, route.reference])),
    saved.mirror ? `mirror: ${saved.mirror.ref} (${saved.mirror.reference})` : '',
    saved.stickyHeader ? `sticky header: ${saved.stickyHeader}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function releaseCommands(context: () => CliContext): Command[] {
  return [tagCommand(context), pinCommand(context), unpinCommand(context), rollbackCommand(context), historyCommand(context), resolveCommand(context), splitCommand(context), routeCommand(context)];
}
