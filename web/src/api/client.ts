// Every call the console makes goes through this client, typed by schema.d.ts, which is generated
// from the registry's own OpenAPI document: a route or field the registry does not have fails the
// console's typecheck.
import createClient, { type Middleware } from 'openapi-fetch';
import { currentToken, signOut } from '../session';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Project = Schemas['ProjectDto'];
export type Model = Schemas['ModelDto'];
export type Version = Schemas['VersionDto'];
export type Tag = Schemas['TagDto'];
export type TagHistoryEntry = Schemas['TagHistoryEntryDto'];
export type Endpoint = Schemas['EndpointDto'];
export type AuditEvent = Schemas['AuditEventDto'];
export type NodeInfo = Schemas['NodeDto'];
export type Warmup = Schemas['WarmupDto'];
export type FileEntry = Schemas['FileDto'];

/** An RFC 9457 problem the registry answered, with its stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = currentToken();
    if (token) request.headers.set('Authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    // An expired or revoked token: back to sign-in, saying why, with nothing of the old session kept.
    if (response.status === 401 && currentToken()) signOut('Your token has expired or was revoked. Sign in with a valid token.');
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a call, or an ApiError with the problem's detail. */
export async function unwrap<T>(call: Promise<Answer<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const problem = (error ?? {}) as { code?: string; detail?: string; title?: string };
  throw new ApiError(response.status, problem.code ?? 'error', problem.detail ?? problem.title ?? `HTTP ${response.status}`);
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code}, HTTP ${error.status})`;
  return error instanceof Error ? error.message : String(error);
}
