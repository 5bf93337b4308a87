import { type ReactNode, useId, useState } from 'react';
import { errorText } from '../api/client';

export function bytes(value: number): string {
  if (value < 1024) return `${value} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value / 1024;
  let unit = 0;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return `${scaled.toFixed(scaled < 10 ? 1 : 0)} ${units[unit]}`;
}

export function When({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="muted">—</span>;
  const date = new Date(at);
  return (
    <time dateTime={at} title={date.toISOString()}>
      {date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}
    </time>
  );
}

/** A digest shortened for reading, whole in the title and for copying. */
export function Digest({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="muted">—</span>;
  const hex = value.replace(/^sha256:/, '');
  return (
    <code className="digest" title={value}>
      {value.startsWith('sha256:') ? 'sha256:' : ''}
      {hex.slice(0, 12)}…
    </code>
  );
}

export function Status({ loading, error }: { loading?: boolean; error?: string | null }) {
  if (error) return <p role="alert" className="error">{error}</p>;
  if (loading) return <p className="muted" aria-live="polite">Loading…</p>;
  return null;
}

export function Section({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  const id = useId();
  return (
    <section aria-labelledby={id} className="card">
      <header className="card-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

/**
 * A change that must say why: the reason is required, goes to the registry with the change, and
 * shows in the tag's history and the audit log.
 */
export function ReasonForm({ label, onSubmit, onCancel, children, focusReason = true }: {
  label: string;
  onSubmit: (reason: string) => Promise<void>;
  onCancel: () => void;
  children?: ReactNode;
  /** Focus the reason when the form opens; false when a field before it takes the focus. */
  focusReason?: boolean;
}) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();
  return (
    <form
      className="reason-form"
      aria-label={label}
      onKeyDown={(event) => {
        if (event.key === 'Escape') onCancel();
      }}
      onSubmit={async (event) => {
        event.preventDefault();
        if (!reason.trim()) return setError('A reason is required.');
        setBusy(true);
        setError(null);
        try {
          await onSubmit(reason.trim());
        } catch (failure) {
          setError(errorText(failure));
          setBusy(false);
        }
      }}
    >
      {children}
      <label htmlFor={id}>Reason</label>
      <input id={id} required autoFocus={focusReason} value={reason} maxLength={1024} onChange={(event) => setReason(event.target.value)} placeholder="Why? (shown in the history)" />
      <button type="submit" disabled={busy}>{label}</button>
      <button type="button" className="secondary" onClick={onCancel}>Cancel</button>
      {error && <p role="alert" className="error">{error}</p>}
    </form>
  );
}
