import { api, unwrap } from '../api/client';
import { Status, When } from '../components/ui';
import { enc, Link } from '../router';
import { usePoll } from '../usePoll';

export function Endpoints({ project }: { project: string }) {
  const endpoints = usePoll(() => unwrap(api.GET('/api/v1/projects/{project}/endpoints', { params: { path: { project }, query: { limit: 200 } } })), [project], 10_000);
  return (
    <main id="main">
      <nav aria-label="Breadcrumb" className="crumbs"><Link href="/">Projects</Link> / <Link href={`/projects/${enc(project)}`}>{project}</Link> / <span>endpoints</span></nav>
      <h1>Endpoints of {project}</h1>
      <Status loading={endpoints.loading && !endpoints.data} error={endpoints.error} />
      {endpoints.data && (
        <table>
          <caption className="sr-only">Endpoints and how their traffic is split</caption>
          <thead><tr><th scope="col">Endpoint</th><th scope="col">Routes</th><th scope="col">Mirror</th><th scope="col">Sticky header</th><th scope="col">Changed</th></tr></thead>
          <tbody>
            {endpoints.data.items.map((endpoint) => (
              <tr key={endpoint.name}>
                <th scope="row"><Link href={`/projects/${enc(project)}/endpoints/${enc(endpoint.name)}`}>{endpoint.name}</Link></th>
                <td>{endpoint.routes.map((route) => <span key={route.ref} className="label">{route.ref} {route.weight}% (@{route.version})</span>)}</td>
                <td>{endpoint.mirror ? `${endpoint.mirror.ref} ${endpoint.mirror.weight}%` : '—'}</td>
                <td>{endpoint.stickyHeader ?? '—'}</td>
                <td><When at={endpoint.updatedAt} /> by {endpoint.updatedBy}</td>
              </tr>
            ))}
            {endpoints.data.items.length === 0 && <tr><td colSpan={5}>No endpoints. Create one with <code>PUT /api/v1/projects/{project}/endpoints/NAME</code>.</td></tr>}
          </tbody>
        </table>
      )}
    </main>
  );
}
