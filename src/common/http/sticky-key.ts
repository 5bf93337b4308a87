import type { IncomingHttpHeaders } from 'node:http';

/**
 * Where a routing decision may find a client's sticky key: the value a request carries under a
 * name (an endpoint's sticky header). Built at the edge, so services never see raw headers.
 */
export type StickyKeySource = (name: string) => string | undefined;

export const NO_STICKY_KEY: StickyKeySource = () => undefined;

/** A request's headers as a sticky key source; a header sent twice is no key. */
export function stickyKeysFromHeaders(headers: IncomingHttpHeaders | Record<string, unknown>): StickyKeySource {
  return (name) => {
    const value = headers[name.toLowerCase()];
    return typeof value === 'string' ? value : undefined;
  };
}
