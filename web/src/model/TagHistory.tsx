import { api, unwrap } from '../api/client';
import { Status, When } from '../components/ui';
import { usePoll } from '../usePoll';

const WORDS: Record<string, string> = { create: 'created', move: 'moved', follow: 'followed newest', pin: 'pinned', unpin: 'unpinned', rollback: 'rolled back', delete: 'deleted' };

/** A tag's history as a timeline, newest first: who, when, what and why. */
export function TagHistory({ project, model, tag, refresh }: { project: string; model: string; tag: string; refresh: number }) {
  const history = usePoll(
    () => unwrap(api.GET('/api/v1/projects/{project}/models/{model}/tags/{tag}/history', { params: { path: { project, model, tag }, query: { limit: 100 } } })),
    [project, model, tag, refresh],
    5_000,
  );
  return (
    <div className="history" aria-live="polite">
      <h3>History of {tag}</h3>
      <Status loading={history.loading && !history.data} error={history.error} />
      <ol className="timeline" aria-label={`History of ${tag}`}>
        {history.data?.items.map((entry) => (
          <li key={entry.seq} data-action={entry.action}>
            <div className="what">
              <strong>{WORDS[entry.action] ?? entry.action}</strong>{' '}
              {entry.from !== null && entry.to !== null && entry.from !== entry.to ? `@${entry.from} → @${entry.to}` : entry.to !== null ? `@${entry.to}` : ''}
            </div>
            <div className="who">
              {entry.actor} · <When at={entry.at} />
            </div>
            {entry.reason && <blockquote className="why">{entry.reason}</blockquote>}
          </li>
        ))}
      </ol>
    </div>
  );
}
