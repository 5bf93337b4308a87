import { WharfClient } from '../client/wharf-client';
import { nameProblem } from '../common/validation/names';
import { formatSelector, parseReference } from '../common/validation/reference';
import { CliError, EXIT } from './exit-codes';
import { createOutput, Output } from './output';
import { resolveSettings, Settings } from './settings';

export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/** What every command gets: output, settings, and a client made on first use. */
export class CliContext {
  readonly out: Output;
  private settingsPromise?: Promise<Settings>;

  constructor(readonly options: GlobalOptions) {
    this.out = createOutput(Boolean(options.json));
  }

  settings(): Promise<Settings> {
    this.settingsPromise ??= resolveSettings({ url: this.options.url, token: this.options.token });
    return this.settingsPromise;
  }

  async client(): Promise<WharfClient> {
    const settings = await this.settings();
    if (!settings.token) {
      throw new CliError('no token: run `wharf login <url> --token <token>`, or set WHARF_TOKEN', EXIT.auth);
    }
    return new WharfClient({ url: settings.url, token: settings.token, userAgent: 'wharf-cli' });
  }
}

/** `project/model`, checked with the registry's own name rules before anything is sent. */
export function parseModelName(value: string): { project: string; model: string } {
  const [project, model, ...rest] = value.split('/');
  if (model === undefined || rest.length) throw new CliError(`"${value}" is not <project>/<model>`, EXIT.usage);
  const problem = nameProblem('project', project) ?? nameProblem('model', model);
  if (problem) throw new CliError(`"${value}": ${problem}`, EXIT.usage);
  return { project, model };
}

export function parseProjectName(value: string): string {
  const problem = nameProblem('project', value);
  if (problem) throw new CliError(`"${value}": ${problem}`, EXIT.usage);
  return value;
}

/**
 * A full reference, `project/model:tag`, `project/model@3` or `project/model@sha256:…`, read by
 * the registry's own parser. Returns the model and the selector part for the API.
 */
export function parseFullReference(value: string): { project: string; model: string; selector: string } {
  let reference;
  try {
    reference = parseReference(value);
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), EXIT.usage);
  }
  if (!reference.project || !reference.model) {
    throw new CliError(`"${value}" must name project and model: project/model:tag, project/model@3 or project/model@sha256:…`, EXIT.usage);
  }
  return { project: reference.project, model: reference.model, selector: formatSelector(reference.selector) };
}
