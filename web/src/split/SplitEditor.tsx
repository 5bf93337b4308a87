import { useId, useMemo, useState } from 'react';
import { api, type Endpoint, errorText, unwrap } from '../api/client';
import { previewKeyMoves, storedRef } from './key-moves';

interface Row {
  ref: string;
  weight: string;
}

const MAX_ROUTES = 16;

/**
 * Edits an endpoint's routes (weights must sum to 100), its mirror and sticky header, and shows
 * before saving what share of sticky keys would change version: the registry's rendezvous hashing
 * moves only the keys it must, and this says how many that is.
 */
export function SplitEditor({ project, endpoint, onSaved, onCancel }: { project: string; endpoint: Endpoint; onSaved: () => void; onCancel: () => void }) {
  const [rows, setRows] = useState<Row[]>(endpoint.routes.map((route) => ({ ref: shortRef(project, route.ref), weight: String(route.weight) })));
  const [mirrorOn, setMirrorOn] = useState(endpoint.mirror !== null);
  const [mirror, setMirror] = useState({ ref: endpoint.mirror ? shortRef(project, endpoint.mirror.ref) : '', percent: String(endpoint.mirror?.weight ?? 10) });
  const [sticky, setSticky] = useState(endpoint.stickyHeader ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = { mirrorRef: useId(), mirrorPercent: useId(), sticky: useId(), total: useId() };

  const weights = rows.map((row) => Number(row.weight));
  const total = weights.reduce((sum, weight) => sum + (Number.isFinite(weight) ? weight : 0), 0);
  const badWeight = weights.some((weight) => !Number.isInteger(weight) || weight < 0 || weight > 100);
  const valid = !badWeight && total === 100 && rows.every((row) => row.ref.trim() !== '');
  const preview = useMemo(() => {
    if (!valid) return null;
    const before = endpoint.routes.map((route) => ({ id: route.ref, weight: route.weight }));
    const after = rows.map((row) => ({ id: storedRef(project, row.ref), weight: Number(row.weight) }));
    const served = new Map(endpoint.routes.map((route) => [route.ref, route.version]));
    return previewKeyMoves(before, after, 2000, (id) => served.get(id));
  }, [valid, rows, endpoint, project]);

  const update = (index: number, change: Partial<Row>) => setRows((list) => list.map((row, i) => (i === index ? { ...row, ...change } : row)));
  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      await unwrap(
        api.PUT('/api/v1/projects/{project}/endpoints/{endpoint}', {
          params: { path: { project, endpoint: endpoint.name } },
          body: {
            description: endpoint.description,
            routes: rows.map((row) => ({ ref: row.ref.trim(), weight: Number(row.weight) })),
            mirror: mirrorOn ? { ref: mirror.ref.trim(), percent: Number(mirror.percent) } : null,
            stickyHeader: sticky.trim() || null,
          },
        }),
      );
      onSaved();
    } catch (failure) {
      setError(errorText(failure));
      setBusy(false);
    }
  };

  return (
    <form className="split-editor" aria-label="Edit traffic split" onSubmit={(event) => { event.preventDefault(); if (valid) void save(); }}>
      <table>
        <caption className="sr-only">Routes and their weights</caption>
        <thead><tr><th scope="col">Route (version or tag)</th><th scope="col">Weight %</th><th scope="col"><span className="sr-only">Remove</span></th></tr></thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={index}>
              <td><input aria-label={`Route ${index + 1} reference`} value={row.ref} placeholder="model:tag or model@3" onChange={(event) => update(index, { ref: event.target.value })} /></td>
              <td><input aria-label={`Route ${index + 1} weight`} type="number" min={0} max={100} step={1} value={row.weight} onChange={(event) => update(index, { weight: event.target.value })} /></td>
              <td><button type="button" className="secondary small" disabled={rows.length === 1} onClick={() => setRows((list) => list.filter((_, i) => i !== index))}>Remove<span className="sr-only"> route {index + 1}</span></button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" className="secondary" disabled={rows.length >= MAX_ROUTES} onClick={() => setRows((list) => [...list, { ref: '', weight: '0' }])}>Add route</button>
      <p id={ids.total} className={total === 100 && !badWeight ? 'ok' : 'error'} role="status">
        Total {total}%{total !== 100 ? ` — weights must sum to 100 (${total < 100 ? `${100 - total} missing` : `${total - 100} too many`})` : ''}
        {badWeight ? ' — each weight is a whole number from 0 to 100' : ''}
      </p>
      <fieldset>
        <legend>Mirror (shadow traffic)</legend>
        <label><input type="checkbox" checked={mirrorOn} onChange={(event) => setMirrorOn(event.target.checked)} /> Copy a share of requests to another version</label>
        {mirrorOn && (
          <>
            <label htmlFor={ids.mirrorRef}>Mirror route</label>
            <input id={ids.mirrorRef} value={mirror.ref} placeholder="model@8" onChange={(event) => setMirror({ ...mirror, ref: event.target.value })} />
            <label htmlFor={ids.mirrorPercent}>Percent copied</label>
            <input id={ids.mirrorPercent} type="number" min={0} max={100} value={mirror.percent} onChange={(event) => setMirror({ ...mirror, percent: event.target.value })} />
          </>
        )}
      </fieldset>
      <label htmlFor={ids.sticky}>Sticky header</label>
      <input id={ids.sticky} value={sticky} placeholder="X-User-Id" onChange={(event) => setSticky(event.target.value)} />
      {preview && (
        <p className="preview" role="status" data-moved={preview.moved} data-version-changed={preview.versionChanged}>
          Preview: {((preview.moved / preview.sampled) * 100).toFixed(1)}% of sticky keys change route ({preview.moved} of {preview.sampled} sampled keys)
          {Object.entries(preview.netByRoute).map(([route, net]) => ` · ${route} ${net > 0 ? '+' : ''}${net}`).join('')}
          {preview.versionChanged !== preview.moved && (
            <>
              <br />
              Of those, {preview.versionChanged} ({((preview.versionChanged / preview.sampled) * 100).toFixed(1)}% of all keys) change the version they are served;
              the rest move between routes that serve the same version today.
            </>
          )}
        </p>
      )}
      <div className="buttons">
        <button type="submit" disabled={!valid || busy}>Save split</button>
        <button type="button" className="secondary" onClick={onCancel}>Cancel</button>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
    </form>
  );
}

/** `vision/resnet50:prod` in project vision reads as `resnet50:prod`. */
function shortRef(project: string, ref: string): string {
  return ref.startsWith(`${project}/`) ? ref.slice(project.length + 1) : ref;
}
