import { Link, match, useLocation } from './router';
import { signOut, useToken } from './session';
import { SignIn } from './pages/SignIn';
import { Projects } from './pages/Projects';
import { Models } from './pages/Models';
import { ModelPage } from './model/ModelPage';
import { Endpoints } from './pages/Endpoints';
import { EndpointPage } from './pages/EndpointPage';
import { Nodes } from './pages/Nodes';
import { Audit } from './pages/Audit';

function Page({ path }: { path: string }) {
  let params: Record<string, string> | null;
  if ((params = match('/projects/:project/models/:model', path))) return <ModelPage project={params.project} model={params.model} />;
  if ((params = match('/projects/:project/endpoints/:endpoint', path))) return <EndpointPage project={params.project} endpoint={params.endpoint} />;
  if ((params = match('/projects/:project/endpoints', path))) return <Endpoints project={params.project} />;
  if ((params = match('/projects/:project', path))) return <Models project={params.project} />;
  if (match('/nodes', path)) return <Nodes />;
  if (match('/audit', path)) return <Audit />;
  if (match('/', path) || match('/projects', path)) return <Projects />;
  return (
    <main id="main">
      <h1>Not found</h1>
      <p>There is no console page at {path}. <Link href="/">Projects</Link></p>
    </main>
  );
}

export function App() {
  const token = useToken();
  const { path } = useLocation();
  if (!token) return <SignIn />;
  const here = (prefix: string) => (path === prefix || (prefix !== '/' && path.startsWith(prefix)) ? 'page' : undefined);
  return (
    <>
      <a className="skip" href="#main">Skip to content</a>
      <header className="top">
        <Link href="/" className="brand">Wharf</Link>
        <nav aria-label="Main">
          <Link href="/" aria-current={here('/') ?? (path.startsWith('/projects') ? 'page' : undefined)}>Projects</Link>
          <Link href="/nodes" aria-current={here('/nodes')}>Nodes</Link>
          <Link href="/audit" aria-current={here('/audit')}>Audit log</Link>
        </nav>
        <button type="button" className="secondary" onClick={() => signOut()}>Sign out</button>
      </header>
      <Page path={path} />
    </>
  );
}
