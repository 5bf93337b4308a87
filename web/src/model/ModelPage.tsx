import { useState } from 'react';
import { api, unwrap, type Version } from '../api/client';
import { Status } from '../components/ui';
import { enc, Link } from '../router';
import { usePoll } from '../usePoll';
import { CompareVersions } from './CompareVersions';
import { FilesPanel } from './FilesPanel';
import { MetricPlot } from './MetricPlot';
import { TagsPanel } from './TagsPanel';
import { VersionsTable } from './VersionsTable';

export function ModelPage({ project, model }: { project: string; model: string }) {
  const path = { project, model };
  const info = usePoll(() => unwrap(api.GET('/api/v1/projects/{project}/models/{model}', { params: { path } })), [project, model], 15_000);
  const projectInfo = usePoll(() => unwrap(api.GET('/api/v1/projects/{project}', { params: { path: { project } } })), [project], 30_000);
  const [versions, setVersions] = useState<Version[]>([]);
  const [compared, setCompared] = useState<number[]>([]);
  const [filesOf, setFilesOf] = useState<number | null>(null);
  const role = projectInfo.data?.role;
  const canEdit = role === 'editor' || role === 'admin';
  const toggleCompare = (number: number) =>
    setCompared((list) => (list.includes(number) ? list.filter((n) => n !== number) : [...list.slice(-1), number]));
  return (
    <main id="main">
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link href="/">Projects</Link> / <Link href={`/projects/${enc(project)}`}>{project}</Link> / <span>{model}</span>
      </nav>
      <h1>{project}/{model}</h1>
      <Status error={info.error ?? projectInfo.error} />
      {info.data && (
        <p>
          {info.data.description}{' '}
          {Object.entries(info.data.labels).map(([key, value]) => <span key={key} className="label">{key}={value}</span>)}
          {role && <span className={`role role-${role}`}>your role: {role}</span>}
        </p>
      )}
      <TagsPanel project={project} model={model} canEdit={canEdit} />
      <VersionsTable project={project} model={model} compared={compared} onToggleCompare={toggleCompare} onShowFiles={setFilesOf} onPage={setVersions} />
      {compared.length === 2 && (
        <CompareVersions versions={versions} left={Math.min(...compared)} right={Math.max(...compared)} project={project} model={model} />
      )}
      <MetricPlot versions={versions} />
      {filesOf !== null && <FilesPanel project={project} model={model} version={filesOf} onClose={() => setFilesOf(null)} />}
    </main>
  );
}
