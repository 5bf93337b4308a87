import { useEffect, useState } from 'react';
import { api, unwrap, type Version } from '../api/client';
import { Digest, Section, Status, When } from '../components/ui';
import { usePoll } from '../usePoll';
import { formatMetric, metricNames, metricsOf } from './metrics';

const PAGE_SIZE = 50;

/**
 * One server page of versions at a time (newest first): a model with 10,000 versions costs the
 * same as one with 50. The first page is polled, so a version pushed through the API appears.
 */
export function VersionsTable({ project, model, compared, onToggleCompare, onShowFiles, onPage }: {
  project: string;
  model: string;
  compared: number[];
  onToggleCompare: (number: number) => void;
  onShowFiles: (number: number) => void;
  onPage: (versions: Version[]) => void;
}) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const page = usePoll(
    () => unwrap(api.GET('/api/v1/projects/{project}/models/{model}/versions', { params: { path: { project, model }, query: { limit: PAGE_SIZE, cursor, sort: '-number' } } })),
    [project, model, cursor],
    cursor ? 0 : 4_000,
  );
  const versions = page.data?.items ?? [];
  useEffect(() => onPage(versions), [page.data]);
  const metrics = metricNames(versions);
  return (
    <Section title="Versions">
      <Status loading={page.loading && !page.data} error={page.error} />
      <div className="scroll">
        <table className="versions">
          <caption className="sr-only">Versions with their metrics; tick two to compare</caption>
          <thead>
            <tr>
              <th scope="col">Compare</th><th scope="col">Version</th><th scope="col">State</th><th scope="col">Description</th>
              {metrics.map((name) => <th scope="col" key={name} className="num">{name}</th>)}
              <th scope="col">Digest</th><th scope="col">By</th><th scope="col">Created</th><th scope="col">Files</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((version) => {
              const values = metricsOf(version);
              return (
                <tr key={version.number} data-version={version.number}>
                  <td>
                    <input type="checkbox" aria-label={`Compare version ${version.number}`} checked={compared.includes(version.number)} onChange={() => onToggleCompare(version.number)} />
                  </td>
                  <th scope="row">@{version.number}</th>
                  <td><span className={`state state-${version.state}`}>{version.state}</span></td>
                  <td>{version.description}</td>
                  {metrics.map((name) => <td key={name} className="num">{formatMetric(values[name])}</td>)}
                  <td><Digest value={version.manifestDigest} /></td>
                  <td>{version.createdBy}</td>
                  <td><When at={version.createdAt} /></td>
                  <td><button type="button" className="link" onClick={() => onShowFiles(version.number)} aria-label={`Files of version ${version.number}`}>Files</button></td>
                </tr>
              );
            })}
            {page.data && versions.length === 0 && <tr><td colSpan={8 + metrics.length}>No versions yet. Push one with <code>wharf push</code>.</td></tr>}
          </tbody>
        </table>
      </div>
      <div className="pager">
        <button type="button" className="secondary" disabled={cursors.length < 2} onClick={() => setCursors((list) => list.slice(0, -1))}>Newer</button>
        <span>Page {cursors.length}</span>
        <button type="button" className="secondary" disabled={!page.data?.nextCursor} onClick={() => setCursors((list) => [...list, page.data!.nextCursor!])}>Older</button>
      </div>
    </Section>
  );
}
