import { useId, useState } from 'react';
import { api, type Endpoint, unwrap } from '../api/client';
import { Section, Status, When } from '../components/ui';
import { enc, Link } from '../router';
import { usePoll } from '../usePoll';
import { SplitEditor } from '../split/SplitEditor';

export function EndpointPage({ project, endpoint }: { project: string; endpoint: string }) {
  const path = { project, endpoint };
  const current = usePoll(() => unwrap(api.GET('/api/v1/projects/{project}/endpoints/{endpoint}', { params: { path } })), [project, endpoint], 5_000);
  const projectInfo = usePoll(() => unwrap(api.GET('/api/v1/projects/{project}', { params: { path: { project } } })), [project], 30_000);
  const canEdit = projectInfo.data?.role === 'editor' || projectInfo.data?.role === 'admin';
  const [editing, setEditing] = useState(false);
  return (
    <main id="main">
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link href="/">Projects</Link> / <Link href={`/projects/${enc(project)}`}>{project}</Link> / <Link href={`/projects/${enc(project)}/endpoints`}>endpoints</Link> / <span>{endpoint}</span>
      </nav>
      <h1>Endpoint {project}/{endpoint}</h1>
      <Status loading={current.loading && !current.data} error={current.error} />
      {current.data && (
        <>
          <Section title="Traffic split" actions={canEdit && !editing && <button type="button" onClick={() => setEditing(true)}>Edit split</button>}>
            <SplitBar endpoint={current.data} />
            <p className="muted">Generation {current.data.generation} · changed <When at={current.data.updatedAt} /> by {current.data.updatedBy}</p>
            {editing && (
              <SplitEditor project={project} endpoint={current.data} onSaved={() => { setEditing(false); current.reload(); }} onCancel={() => setEditing(false)} />
            )}
          </Section>
          <RouteProbe project={project} endpoint={endpoint} generation={current.data.generation} />
        </>
      )}
    </main>
  );
}

/** The routes as one bar of their weights, and a list that says the same in words. */
function SplitBar({ endpoint }: { endpoint: Endpoint }) {
  return (
    <>
      <div className="split-bar" aria-hidden="true">
        {endpoint.routes.filter((route) => route.weight > 0).map((route, index) => (
          <span key={route.ref} className={`split-${index % 6}`} style={{ flexGrow: route.weight }}>{route.weight}%</span>
        ))}
      </div>
      <ul className="routes">
        {endpoint.routes.map((route) => (
          <li key={route.ref} data-route={route.ref}>
            <strong>{route.weight}%</strong> → {route.ref} <span className="muted">(serves @{route.version}, {route.state})</span>
          </li>
        ))}
        {endpoint.mirror && <li>Mirror: {endpoint.mirror.weight}% copied to {endpoint.mirror.ref} (@{endpoint.mirror.version})</li>}
        <li>Sticky header: {endpoint.stickyHeader ? <code>{endpoint.stickyHeader}</code> : 'none (weighted random per request)'}</li>
      </ul>
    </>
  );
}

/** Asks the registry's /route which version a key is served by: what the data plane will do. */
function RouteProbe({ project, endpoint, generation }: { project: string; endpoint: string; generation: number }) {
  const [key, setKey] = useState('user-42');
  const id = useId();
  const decision = usePoll(
    () => unwrap(api.GET('/api/v1/projects/{project}/endpoints/{endpoint}/route', { params: { path: { project, endpoint }, query: { key } } })),
    [project, endpoint, key, generation],
    0,
  );
  return (
    <Section title="Which version serves a key">
      <label htmlFor={id}>Sticky key</label> <input id={id} value={key} onChange={(event) => setKey(event.target.value)} />
      <Status error={decision.error} />
      {decision.data && (
        <p className="route-answer" aria-live="polite">
          Key <code>{decision.data.key}</code> → <strong>{decision.data.route.ref}</strong> (@{decision.data.route.version}){decision.data.mirror ? `, mirrored to ${decision.data.mirror.ref}` : ''}
        </p>
      )}
    </Section>
  );
}
