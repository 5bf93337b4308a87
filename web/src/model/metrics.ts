import type { Version } from '../api/client';

/** A version's numeric metrics (metadata.metrics), the convention the CLI and SDK write. */
export function metricsOf(version: Version): Record<string, number> {
  const metrics = (version.metadata as { metrics?: unknown }).metrics;
  if (!metrics || typeof metrics !== 'object') return {};
  return Object.fromEntries(Object.entries(metrics as Record<string, unknown>).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
}

export function metricNames(versions: readonly Version[]): string[] {
  return [...new Set(versions.flatMap((version) => Object.keys(metricsOf(version))))].sort();
}

/** Metadata other than metrics, flattened to `a.b` keys and printable values. */
export function flatMetadata(value: unknown, prefix = ''): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return prefix ? { [prefix]: JSON.stringify(value) } : {};
  return Object.assign(
    {},
    ...Object.entries(value as Record<string, unknown>).map(([key, inner]) => {
      const name = prefix ? `${prefix}.${key}` : key;
      return inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? flatMetadata(inner, name) : { [name]: typeof inner === 'string' ? inner : JSON.stringify(inner) };
    }),
  );
}

export function formatMetric(value: number | undefined): string {
  if (value === undefined) return '—';
  return Math.abs(value) >= 1000 || Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}
