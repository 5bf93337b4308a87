import { useId, useState } from 'react';
import { api, type Tag, unwrap } from '../api/client';
import { ReasonForm, Section, Status, When } from '../components/ui';
import { usePoll } from '../usePoll';
import { TagHistory } from './TagHistory';

type Action = 'move' | 'pin' | 'unpin' | 'rollback' | 'create';
const VERBS: Record<Action, string> = { move: 'Move', pin: 'Pin', unpin: 'Unpin', rollback: 'Roll back', create: 'Create tag' };

/** Tags with their state, the changes an editor may make (each with a reason), and history. */
export function TagsPanel({ project, model, canEdit }: { project: string; model: string; canEdit: boolean }) {
  const tags = usePoll(() => unwrap(api.GET('/api/v1/projects/{project}/models/{model}/tags', { params: { path: { project, model }, query: { limit: 200 } } })), [project, model], 4_000);
  const [action, setAction] = useState<{ kind: Action; tag: string } | null>(null);
  const [historyOf, setHistoryOf] = useState<string | null>(null);
  const [changes, setChanges] = useState(0);
  const done = () => {
    setAction(null);
    setChanges((n) => n + 1);
    tags.reload();
  };
  return (
    <Section title="Tags" actions={canEdit && <button type="button" onClick={() => setAction({ kind: 'create', tag: '' })}>New tag</button>}>
      <Status loading={tags.loading && !tags.data} error={tags.error} />
      {tags.data && (
        <table className="tags">
          <caption className="sr-only">Tags of {model}</caption>
          <thead>
            <tr><th scope="col">Tag</th><th scope="col">Version</th><th scope="col">Pinned</th><th scope="col">Changed by</th><th scope="col">Changed</th><th scope="col">Actions</th></tr>
          </thead>
          <tbody>
            {tags.data.items.map((tag) => (
              <tr key={tag.name} data-tag={tag.name}>
                <th scope="row">{tag.name}{tag.automatic && <span className="muted"> (follows newest)</span>}</th>
                <td className="tag-version">@{tag.version}</td>
                <td>{tag.pinned ? <span className="pinned" title={`by ${tag.pinnedBy ?? '?'}`}>pinned</span> : <span className="muted">no</span>}</td>
                <td>{tag.updatedBy}</td>
                <td><When at={tag.updatedAt} /></td>
                <td className="actions">
                  <button type="button" className="link" aria-expanded={historyOf === tag.name} onClick={() => setHistoryOf(historyOf === tag.name ? null : tag.name)}>
                    History<span className="sr-only"> of {tag.name}</span>
                  </button>
                  {canEdit && <TagActions tag={tag} onChoose={(kind) => setAction({ kind, tag: tag.name })} />}
                </td>
              </tr>
            ))}
            {tags.data.items.length === 0 && <tr><td colSpan={6}>No tags yet.</td></tr>}
          </tbody>
        </table>
      )}
      {action && canEdit && <ActionForm project={project} model={model} action={action} onDone={done} onCancel={() => setAction(null)} />}
      {historyOf && <TagHistory project={project} model={model} tag={historyOf} refresh={changes} />}
    </Section>
  );
}

function TagActions({ tag, onChoose }: { tag: Tag; onChoose: (kind: Action) => void }) {
  const kinds: Action[] = tag.pinned ? ['unpin', 'rollback'] : ['move', 'pin', 'rollback'];
  return (
    <>
      {kinds.map((kind) => (
        <button key={kind} type="button" className="secondary small" onClick={() => onChoose(kind)}>
          {VERBS[kind]}<span className="sr-only"> {tag.name}</span>
        </button>
      ))}
    </>
  );
}

function ActionForm({ project, model, action, onDone, onCancel }: {
  project: string;
  model: string;
  action: { kind: Action; tag: string };
  onDone: () => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(action.tag);
  const [version, setVersion] = useState('');
  const ids = { name: useId(), version: useId() };
  const submit = async (reason: string) => {
    const path = { project, model, tag: name };
    if (action.kind === 'move' || action.kind === 'create') {
      await unwrap(api.PUT('/api/v1/projects/{project}/models/{model}/tags/{tag}', { params: { path }, body: { version: Number(version), reason } }));
    } else if (action.kind === 'pin') {
      await unwrap(api.POST('/api/v1/projects/{project}/models/{model}/tags/{tag}/pin', { params: { path }, body: { reason } }));
    } else if (action.kind === 'unpin') {
      await unwrap(api.POST('/api/v1/projects/{project}/models/{model}/tags/{tag}/unpin', { params: { path }, body: { reason } }));
    } else {
      await unwrap(api.POST('/api/v1/projects/{project}/models/{model}/tags/{tag}/rollback', { params: { path }, body: { reason } }));
    }
    onDone();
  };
  const title = action.kind === 'create' ? 'Create tag' : `${VERBS[action.kind]} ${action.tag}`;
  return (
    <ReasonForm label={title} onSubmit={submit} onCancel={onCancel} focusReason={action.kind !== 'move' && action.kind !== 'create'}>
      {action.kind === 'create' && (
        <>
          <label htmlFor={ids.name}>Tag name</label>
          <input id={ids.name} required autoFocus value={name} onChange={(event) => setName(event.target.value)} placeholder="staging" />
        </>
      )}
      {(action.kind === 'move' || action.kind === 'create') && (
        <>
          <label htmlFor={ids.version}>To version</label>
          <input id={ids.version} type="number" min={1} required autoFocus={action.kind === 'move'} value={version} onChange={(event) => setVersion(event.target.value)} />
        </>
      )}
      {action.kind === 'rollback' && <p className="hint">Moves {action.tag} back to the version it pointed to before, and pins it.</p>}
    </ReasonForm>
  );
}
