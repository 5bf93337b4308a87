import type { Version } from '../api/client';
import { Digest, Section } from '../components/ui';
import { flatMetadata, formatMetric, metricNames, metricsOf } from './metrics';

/** Two versions side by side: metrics with their change, then every other metadata field. */
export function CompareVersions({ versions, left, right }: { versions: Version[]; left: number; right: number; project: string; model: string }) {
  const a = versions.find((version) => version.number === left);
  const b = versions.find((version) => version.number === right);
  if (!a || !b) return null;
  const metricsA = metricsOf(a);
  const metricsB = metricsOf(b);
  const { metrics: _a, ...restA } = a.metadata as Record<string, unknown>;
  const { metrics: _b, ...restB } = b.metadata as Record<string, unknown>;
  const fieldsA = flatMetadata(restA);
  const fieldsB = flatMetadata(restB);
  const fields = [...new Set([...Object.keys(fieldsA), ...Object.keys(fieldsB)])].sort();
  return (
    <Section title={`Compare @${left} and @${right}`}>
      <table className="compare">
        <caption className="sr-only">Version {left} against version {right}</caption>
        <thead>
          <tr><th scope="col">Field</th><th scope="col">@{left}</th><th scope="col">@{right}</th><th scope="col">Change</th></tr>
        </thead>
        <tbody>
          <tr><th scope="row">state</th><td>{a.state}</td><td>{b.state}</td><td /></tr>
          <tr><th scope="row">description</th><td>{a.description}</td><td>{b.description}</td><td /></tr>
          <tr><th scope="row">digest</th><td><Digest value={a.manifestDigest} /></td><td><Digest value={b.manifestDigest} /></td><td>{a.manifestDigest === b.manifestDigest ? 'same files' : ''}</td></tr>
          {metricNames([a, b]).map((name) => {
            const delta = metricsA[name] !== undefined && metricsB[name] !== undefined ? metricsB[name] - metricsA[name] : undefined;
            return (
              <tr key={`m-${name}`} className="metric-row">
                <th scope="row">metrics.{name}</th>
                <td className="num">{formatMetric(metricsA[name])}</td>
                <td className="num">{formatMetric(metricsB[name])}</td>
                <td className={`num ${delta === undefined || delta === 0 ? '' : delta > 0 ? 'up' : 'down'}`}>{delta === undefined ? '' : `${delta > 0 ? '+' : ''}${formatMetric(delta)}`}</td>
              </tr>
            );
          })}
          {fields.map((field) => (
            <tr key={field} className={fieldsA[field] !== fieldsB[field] ? 'differs' : undefined}>
              <th scope="row">{field}</th><td>{fieldsA[field] ?? '—'}</td><td>{fieldsB[field] ?? '—'}</td><td>{fieldsA[field] !== fieldsB[field] ? 'differs' : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}
