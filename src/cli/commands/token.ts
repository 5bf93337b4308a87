import { Command, Option } from 'commander';
import { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { ago, table } from '../output';

function positiveInteger(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new CliError(`"${value}" is not a positive whole number`, EXIT.usage);
  return Number(value);
}

export function tokenCommand(context: () => CliContext): Command {
  const token = new Command('token').description('Create, list and revoke API tokens');

  token
    .command('create')
    .description('Create a token; its secret is printed once')
    .argument('<name>', 'what the token is for')
    .option('--project <project>', 'limit the token to one project')
    .addOption(new Option('--role <role>', 'role ceiling').choices(['viewer', 'editor', 'admin']))
    .option('--expires-in-days <days>', 'expire after this many days', positiveInteger)
    .option('--principal <name>', 'for another principal (platform admins)')
    .action(async (name: string, options: { project?: string; role?: 'viewer' | 'editor' | 'admin'; expiresInDays?: number; principal?: string }) => {
      const ctx = context();
      const created = await (await ctx.client()).createToken({ name, ...options });
      ctx.out.result(created, () => `${created.token}\n\nSave this token now: it cannot be shown again (id ${created.id}).`);
    });

  token
    .command('list')
    .description('List your tokens (never their secrets)')
    .option('--all', 'include revoked and expired tokens')
    .option('--principal <name>', "another principal's tokens (platform admins)")
    .action(async (options: { all?: boolean; principal?: string }) => {
      const ctx = context();
      const client = await ctx.client();
      const tokens = await client.listAll((cursor) => client.listTokens({ ...options, cursor }));
      ctx.out.result(tokens, () =>
        table(
          ['ID', 'NAME', 'PREFIX', 'PROJECT', 'ROLE', 'EXPIRES', 'LAST USED', 'REVOKED'],
          tokens.map((t) => [t.id, t.name, t.prefix, t.project, t.role, t.expiresAt, ago(t.lastUsedAt), t.revokedAt ? 'yes' : null]),
        ),
      );
    });

  token
    .command('revoke')
    .description('Revoke a token at once')
    .argument('<id>', 'token id (from `wharf token list`)')
    .action(async (id: string) => {
      const ctx = context();
      await (await ctx.client()).revokeToken(id);
      ctx.out.result({ id, revoked: true }, () => `Revoked ${id}`);
    });
  return token;
}
