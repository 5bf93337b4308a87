import { useId, useState } from 'react';
import { api, unwrap } from '../api/client';
import { bytes, Section, Status, When } from '../components/ui';
import { enc, Link } from '../router';
import { usePoll } from '../usePoll';

type Sort = 'name' | '-name' | 'createdAt' | '-createdAt' | 'updatedAt' | '-updatedAt';
const SORTS: { value: Sort; label: string }[] = [
  { value: 'name', label: 'Name (A–Z)' },
  { value: '-name', label: 'Name (Z–A)' },
  { value: '-updatedAt', label: 'Recently changed' },
  { value: '-createdAt', label: 'Newest' },
  { value: 'createdAt', label: 'Oldest' },
];
const PAGE_SIZE = 25;

export function Models({ project }: { project: string }) {
  const [prefix, setPrefix] = useState('');
  const [labels, setLabels] = useState('');
  const [sort, setSort] = useState<Sort>('name');
  // The cursors of the pages before this one: the server pages, the console only remembers the way back.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const label = labels.split(',').map((pair) => pair.trim()).filter(Boolean);
  const models = usePoll(
    () => unwrap(api.GET('/api/v1/projects/{project}/models', { params: { path: { project }, query: { prefix: prefix || undefined, label: label.length ? label : undefined, sort, limit: PAGE_SIZE, cursor } } })),
    [project, prefix, labels, sort, cursor],
    10_000,
  );
  const info = usePoll(() => unwrap(api.GET('/api/v1/projects/{project}', { params: { path: { project } } })), [project], 30_000);
  const storage = usePoll(() => unwrap(api.GET('/api/v1/projects/{project}/storage', { params: { path: { project } } })), [project], 5_000);
  const restart = () => setCursors([undefined]);
  const ids = { search: useId(), labels: useId(), sort: useId() };
  return (
    <main id="main">
      <nav aria-label="Breadcrumb" className="crumbs"><Link href="/">Projects</Link> / <span>{project}</span></nav>
      <h1>{project}</h1>
      {info.data && <p>{info.data.description} <span className={`role role-${info.data.role}`}>your role: {info.data.role}</span> · <Link href={`/projects/${enc(project)}/endpoints`}>Endpoints</Link></p>}
      <Status error={info.error} />
      {storage.data && (
        <p className="storage">
          Storage {bytes(storage.data.usedBytes)}{storage.data.quotaBytes > 0 ? ` of ${bytes(storage.data.quotaBytes)}` : ' (no quota)'}
          {' · '}uploads in progress: <strong>{bytes(storage.data.pendingUploadBytes)}</strong> reserved
        </p>
      )}
      <Section title="Models">
        <form className="filters" role="search" onSubmit={(event) => event.preventDefault()}>
          <label htmlFor={ids.search}>Name starts with</label>
          <input id={ids.search} type="search" value={prefix} onChange={(event) => { setPrefix(event.target.value); restart(); }} />
          <label htmlFor={ids.labels}>Labels</label>
          <input id={ids.labels} value={labels} placeholder="task=classification,team" onChange={(event) => { setLabels(event.target.value); restart(); }} />
          <label htmlFor={ids.sort}>Sort</label>
          <select id={ids.sort} value={sort} onChange={(event) => { setSort(event.target.value as Sort); restart(); }}>
            {SORTS.map((option) => <option key={option.value} value={option.value}>{option.label}</option>)}
          </select>
        </form>
        <Status loading={models.loading && !models.data} error={models.error} />
        {models.data && (
          <table>
            <caption className="sr-only">Models in {project}</caption>
            <thead>
              <tr><th scope="col">Model</th><th scope="col">Description</th><th scope="col">Labels</th><th scope="col">Versions</th><th scope="col">Changed</th></tr>
            </thead>
            <tbody>
              {models.data.items.map((model) => (
                <tr key={model.name}>
                  <th scope="row"><Link href={`/projects/${enc(project)}/models/${enc(model.name)}`}>{model.name}</Link></th>
                  <td>{model.description}</td>
                  <td>
                    {Object.entries(model.labels).map(([key, value]) => (
                      <button
                        key={key}
                        type="button"
                        className="label"
                        title={`Show only models labelled ${key}=${value}`}
                        onClick={() => {
                          if (!label.includes(`${key}=${value}`)) setLabels([...label, `${key}=${value}`].join(','));
                          restart();
                        }}
                      >
                        {key}={value}
                      </button>
                    ))}
                  </td>
                  <td className="num">{model.versionCount}</td>
                  <td><When at={model.updatedAt} /></td>
                </tr>
              ))}
              {models.data.items.length === 0 && <tr><td colSpan={5}>No models match.</td></tr>}
            </tbody>
          </table>
        )}
        <div className="pager">
          <button type="button" className="secondary" disabled={cursors.length < 2} onClick={() => setCursors((list) => list.slice(0, -1))}>Previous page</button>
          <span>Page {cursors.length}</span>
          <button type="button" className="secondary" disabled={!models.data?.nextCursor} onClick={() => setCursors((list) => [...list, models.data!.nextCursor!])}>Next page</button>
        </div>
      </Section>
    </main>
  );
}
