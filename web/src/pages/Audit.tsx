import { useId, useState } from 'react';
import { api, unwrap } from '../api/client';
import { Status, When } from '../components/ui';
import { usePoll } from '../usePoll';

const PAGE_SIZE = 50;

export function Audit() {
  const [filters, setFilters] = useState({ project: '', actor: '', action: '', since: '' });
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const query = {
    project: filters.project || undefined,
    actor: filters.actor || undefined,
    action: filters.action || undefined,
    since: filters.since ? new Date(filters.since).toISOString() : undefined,
    limit: PAGE_SIZE,
    cursor,
  };
  const events = usePoll(() => unwrap(api.GET('/api/v1/audit', { params: { query } })), [JSON.stringify(query)], cursor ? 0 : 5_000);
  const ids = { project: useId(), actor: useId(), action: useId(), since: useId() };
  const set = (name: keyof typeof filters) => (event: { target: { value: string } }) => {
    setFilters({ ...filters, [name]: event.target.value });
    setCursors([undefined]);
  };
  return (
    <main id="main">
      <h1>Audit log</h1>
      <p className="muted">Every change, newest first. Platform admins see all; project admins their projects.</p>
      <form className="filters" role="search" onSubmit={(event) => event.preventDefault()}>
        <label htmlFor={ids.project}>Project</label><input id={ids.project} value={filters.project} onChange={set('project')} />
        <label htmlFor={ids.actor}>Actor</label><input id={ids.actor} value={filters.actor} onChange={set('actor')} />
        <label htmlFor={ids.action}>Action</label><input id={ids.action} value={filters.action} placeholder="tag.*" onChange={set('action')} />
        <label htmlFor={ids.since}>Since</label><input id={ids.since} type="datetime-local" value={filters.since} onChange={set('since')} />
      </form>
      <Status loading={events.loading && !events.data} error={events.error} />
      {events.data && (
        <table className="audit">
          <caption className="sr-only">Audit events</caption>
          <thead><tr><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Project</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Details</th></tr></thead>
          <tbody>
            {events.data.items.map((event) => (
              <tr key={event.id}>
                <td><When at={event.occurredAt} /></td>
                <td>{event.actor}</td>
                <td>{event.project ?? '—'}</td>
                <td><code>{event.action}</code></td>
                <td>{event.target}</td>
                <td><code className="details">{JSON.stringify(event.details)}</code></td>
              </tr>
            ))}
            {events.data.items.length === 0 && <tr><td colSpan={6}>No events match.</td></tr>}
          </tbody>
        </table>
      )}
      <div className="pager">
        <button type="button" className="secondary" disabled={cursors.length < 2} onClick={() => setCursors((list) => list.slice(0, -1))}>Newer</button>
        <span>Page {cursors.length}</span>
        <button type="button" className="secondary" disabled={!events.data?.nextCursor} onClick={() => setCursors((list) => [...list, events.data!.nextCursor!])}>Older</button>
      </div>
    </main>
  );
}
