import { Command } from 'commander';
import { WharfClient } from '../../client/wharf-client';
import { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { configFile, DEFAULT_URL, saveLogin } from '../settings';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

export function loginCommand(context: () => CliContext): Command {
  return new Command('login')
    .description(`Check a registry URL and token, and save them to ${configFile()}`)
    .argument('[url]', 'registry URL', DEFAULT_URL)
    .option('--token <token>', 'API token (or WHARF_TOKEN)')
    .option('--token-stdin', 'read the token from standard input (keeps it out of shell history)')
    .action(async (url: string, options: { token?: string; tokenStdin?: boolean }) => {
      const ctx = context();
      const token = options.tokenStdin ? await readStdin() : (options.token ?? ctx.options.token ?? process.env.WHARF_TOKEN);
      if (!token) throw new CliError('give a token with --token, --token-stdin or WHARF_TOKEN', EXIT.usage);
      const client = new WharfClient({ url, token, retries: 1, userAgent: 'wharf-cli' });
      // Any authenticated call proves the pair works; the token list is the caller's own.
      await client.listTokens({ limit: 1 });
      const file = await saveLogin(url, token);
      ctx.out.result({ url, saved: file }, () => `Logged in to ${url} (saved to ${file})`);
    });
}
