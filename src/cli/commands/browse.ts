import { Command, Option } from 'commander';
import { CliContext, parseModelName, parseProjectName } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { ago, table } from '../output';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function lsCommand(context: () => CliContext): Command {
  return new Command('ls')
    .description('List projects, or the models of a project')
    .argument('[project]', 'list the models of this project')
    .option('--label <key=value>', 'only with this label (repeat to AND)', collect)
    .option('--prefix <prefix>', 'only names starting with this')
    .option('--sort <field>', 'name, -name, createdAt, -createdAt, updatedAt, -updatedAt')
    .action(async (project: string | undefined, options: { label?: string[]; prefix?: string; sort?: string }) => {
      const ctx = context();
      const client = await ctx.client();
      if (project === undefined) {
        const projects = await client.listAll((cursor) => client.listProjects({ ...options, cursor }));
        ctx.out.result(projects, () =>
          table(['PROJECT', 'ROLE', 'DESCRIPTION', 'CREATED'], projects.map((p) => [p.name, p.role, p.description, ago(p.createdAt)])),
        );
        return;
      }
      const name = parseProjectName(project);
      const models = await client.listAll((cursor) => client.listModels(name, { ...options, cursor }));
      ctx.out.result(models, () =>
        table(
          ['MODEL', 'VERSIONS', 'LABELS', 'UPDATED'],
          models.map((m) => [`${m.project}/${m.name}`, m.versionCount, Object.entries(m.labels).map(([k, v]) => `${k}=${v}`).join(',') || '-', ago(m.updatedAt)]),
        ),
      );
    });
}

export function versionsCommand(context: () => CliContext): Command {
  return new Command('versions')
    .description('List the versions of a model, newest first')
    .argument('<project/model>')
    .addOption(new Option('--state <state>', 'only versions in this state').choices(['draft', 'ready', 'failed', 'archived']))
    .action(async (ref: string, options: { state?: string }) => {
      const ctx = context();
      const { project, model } = parseModelName(ref);
      const client = await ctx.client();
      const versions = await client.listAll((cursor) => client.listVersions(project, model, { ...options, cursor }));
      ctx.out.result(versions, () =>
        table(
          ['VERSION', 'STATE', 'DIGEST', 'BY', 'CREATED', 'DESCRIPTION'],
          versions.map((v) => [v.number, v.state, v.manifestDigest?.slice(0, 19) ?? null, v.createdBy, ago(v.createdAt), v.description]),
        ),
      );
    });
}

export function showCommand(context: () => CliContext): Command {
  return new Command('show')
    .description('Show a model, or one version of it (project/model@N)')
    .argument('<ref>', 'project/model or project/model@N')
    .action(async (ref: string) => {
      const ctx = context();
      const client = await ctx.client();
      const [modelRef, versionPart] = ref.split('@');
      const { project, model } = parseModelName(modelRef);
      if (versionPart === undefined) {
        const found = await client.getModel(project, model);
        ctx.out.result(found, () =>
          [
            `Model:       ${found.project}/${found.name}`,
            `Description: ${found.description || '-'}`,
            `Labels:      ${Object.entries(found.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '-'}`,
            `Versions:    ${found.versionCount}`,
            `Created:     ${found.createdAt} by ${found.createdBy}`,
          ].join('\n'),
        );
        return;
      }
      if (!/^[1-9][0-9]*$/.test(versionPart)) throw new CliError(`"${ref}": the version after @ must be a number`, EXIT.usage);
      const version = await client.getVersion(project, model, Number(versionPart));
      ctx.out.result(version, () =>
        [
          `Version:     ${version.project}/${version.model}@${version.number}`,
          `State:       ${version.state}`,
          `Digest:      ${version.manifestDigest ?? '- (not committed)'}`,
          `Description: ${version.description || '-'}`,
          `Metadata:    ${JSON.stringify(version.metadata)}`,
          `Created:     ${version.createdAt} by ${version.createdBy}`,
          `Committed:   ${version.committedAt ?? '-'}`,
        ].join('\n'),
      );
    });
}
