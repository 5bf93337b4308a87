import { useState } from 'react';
import { api, type Project, unwrap } from '../api/client';
import { Status, When } from '../components/ui';
import { enc, Link } from '../router';
import { usePoll } from '../usePoll';

export function Projects() {
  const [pages, setPages] = useState<Project[][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const first = usePoll(() => unwrap(api.GET('/api/v1/projects', { params: { query: { limit: 50 } } })), [], 15_000);
  const more = async () => {
    const page = await unwrap(api.GET('/api/v1/projects', { params: { query: { limit: 50, cursor: cursor ?? first.data?.nextCursor ?? undefined } } }));
    setPages((previous) => [...previous, page.items]);
    setCursor(page.nextCursor);
  };
  const projects = [...(first.data?.items ?? []), ...pages.flat()];
  const hasMore = pages.length ? cursor !== null : Boolean(first.data?.nextCursor);
  return (
    <main id="main">
      <h1>Projects</h1>
      <Status loading={first.loading && !first.data} error={first.error} />
      {first.data && projects.length === 0 && <p>No projects this token can see.</p>}
      {projects.length > 0 && (
        <table>
          <caption className="sr-only">Projects this token can see, with your role in each</caption>
          <thead>
            <tr><th scope="col">Project</th><th scope="col">Description</th><th scope="col">Your role</th><th scope="col">Created</th><th scope="col">Endpoints</th></tr>
          </thead>
          <tbody>
            {projects.map((project) => (
              <tr key={project.name}>
                <th scope="row"><Link href={`/projects/${enc(project.name)}`}>{project.name}</Link></th>
                <td>{project.description}</td>
                <td><span className={`role role-${project.role}`}>{project.role}</span></td>
                <td><When at={project.createdAt} /></td>
                <td><Link href={`/projects/${enc(project.name)}/endpoints`}>Endpoints</Link></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {hasMore && <button type="button" onClick={more}>Load more projects</button>}
    </main>
  );
}
