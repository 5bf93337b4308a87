/**
 * A request's declared body length: undefined when the header is absent (a chunked body), NaN
 * when it is not a plain decimal number. Node refuses most malformed values before a route
 * sees them; this keeps the few it lets through (`+5`, ` 5`) from reading as numbers.
 */
export function parseContentLength(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  return /^[0-9]+$/.test(header) ? Number(header) : NaN;
}
