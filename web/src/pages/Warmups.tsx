import { useId, useState } from 'react';
import { api, errorText, unwrap } from '../api/client';
import { bytes, Section, Status } from '../components/ui';
import { usePoll } from '../usePoll';

/** A project's warm-ups: which version should be ready where, and how far each node has got. */
export function Warmups() {
  const projects = usePoll(() => unwrap(api.GET('/api/v1/projects', { params: { query: { limit: 200 } } })), [], 0);
  const [chosen, setChosen] = useState('');
  const project = chosen || projects.data?.items[0]?.name || '';
  const role = projects.data?.items.find((item) => item.name === project)?.role;
  const warmups = usePoll(
    () => (project ? unwrap(api.GET('/api/v1/projects/{project}/warmups', { params: { path: { project } } })) : Promise.resolve({ items: [] })),
    [project],
    5_000,
  );
  const id = useId();
  return (
    <Section
      title="Warm-ups"
      actions={
        <span>
          <label htmlFor={id}>Project </label>
          <select id={id} value={project} onChange={(event) => setChosen(event.target.value)}>
            {projects.data?.items.map((item) => <option key={item.name}>{item.name}</option>)}
          </select>
        </span>
      }
    >
      <Status loading={warmups.loading && !warmups.data} error={warmups.error ?? projects.error} />
      {warmups.data && (
        <ul className="warmups">
          {warmups.data.items.map((warmup) => {
            const done = warmup.nodes.reduce((sum, node) => sum + node.bytesDone, 0);
            const all = warmup.nodes.reduce((sum, node) => sum + node.bytesTotal, 0);
            return (
              <li key={warmup.id}>
                <strong>{warmup.model}:{warmup.ref}</strong> (@{warmup.version ?? '?'}) on{' '}
                {Object.entries(warmup.selector.matchLabels).map(([key, value]) => `${key}=${value}`).join(',') || 'every node'}
                {warmup.maxNodes ? `, at most ${warmup.maxNodes} nodes` : ''} ·{' '}
                {warmup.nodes.filter((node) => node.state === 'ready').length}/{warmup.nodes.length} ready
                {all > 0 && <> · <progress max={all} value={done} aria-label={`Warm-up ${warmup.model}:${warmup.ref} progress`} /> {bytes(done)} of {bytes(all)}</>}
              </li>
            );
          })}
          {warmups.data.items.length === 0 && <li>No warm-ups in {project || 'this project'}.</li>}
        </ul>
      )}
      {(role === 'editor' || role === 'admin') && <NewWarmup project={project} onCreated={warmups.reload} />}
    </Section>
  );
}

function NewWarmup({ project, onCreated }: { project: string; onCreated: () => void }) {
  const [form, setForm] = useState({ model: '', ref: 'prod', selector: '', maxNodes: '' });
  const [error, setError] = useState<string | null>(null);
  const ids = { model: useId(), ref: useId(), selector: useId(), maxNodes: useId() };
  const field = (name: keyof typeof form) => (event: { target: { value: string } }) => setForm({ ...form, [name]: event.target.value });
  return (
    <form
      className="filters"
      aria-label="New warm-up"
      onSubmit={async (event) => {
        event.preventDefault();
        setError(null);
        const matchLabels = Object.fromEntries(form.selector.split(',').map((pair) => pair.trim()).filter(Boolean).map((pair) => pair.split('=').map((part) => part.trim())));
        try {
          await unwrap(api.POST('/api/v1/projects/{project}/warmups', {
            params: { path: { project } },
            body: { model: form.model, ref: form.ref, selector: { matchLabels }, maxNodes: form.maxNodes ? Number(form.maxNodes) : undefined },
          }));
          onCreated();
        } catch (failure) {
          setError(errorText(failure));
        }
      }}
    >
      <label htmlFor={ids.model}>Model</label><input id={ids.model} required value={form.model} onChange={field('model')} />
      <label htmlFor={ids.ref}>Tag or version</label><input id={ids.ref} required value={form.ref} onChange={field('ref')} />
      <label htmlFor={ids.selector}>Node labels</label><input id={ids.selector} value={form.selector} placeholder="gpu=a100" onChange={field('selector')} />
      <label htmlFor={ids.maxNodes}>Max nodes</label><input id={ids.maxNodes} type="number" min={1} value={form.maxNodes} onChange={field('maxNodes')} />
      <button type="submit">Warm up</button>
      {error && <p role="alert" className="error">{error}</p>}
    </form>
  );
}
