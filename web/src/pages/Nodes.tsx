import { api, type NodeInfo, unwrap } from '../api/client';
import { bytes, Section, Status, When } from '../components/ui';
import { usePoll } from '../usePoll';
import { Warmups } from './Warmups';

/** Nodes are shown one request each (their entries come only with a single node): cap the map. */
const MAX_NODES_SHOWN = 60;

export function Nodes() {
  const nodes = usePoll(async () => {
    // The registry pages nodes by name: one page is the map's first nodes; more pages are not fetched.
    const list = await unwrap(api.GET('/api/v1/nodes', { params: { query: { limit: MAX_NODES_SHOWN } } }));
    const detailed = await Promise.all(list.items.map((node) => unwrap(api.GET('/api/v1/nodes/{node}', { params: { path: { node: node.name } } }))));
    return { more: Boolean(list.nextCursor), nodes: detailed };
  }, [], 5_000);
  return (
    <main id="main">
      <h1>Nodes and caches</h1>
      <Status loading={nodes.loading && !nodes.data} error={nodes.error && `${nodes.error} — the node map needs a platform admin's token.`} />
      {nodes.data && <CacheMap nodes={nodes.data.nodes} more={nodes.data.more} />}
      <Warmups />
    </main>
  );
}

function CacheMap({ nodes, more }: { nodes: NodeInfo[]; more: boolean }) {
  const versions = [...new Set(nodes.flatMap((node) => (node.entries ?? []).map((entry) => `${entry.project}/${entry.model}@${entry.version}`)))].sort();
  return (
    <Section title={`Cache map (${more ? `first ${nodes.length} nodes by name` : `${nodes.length} nodes`} × ${versions.length} versions)`}>
      {nodes.length === 0 ? (
        <p>No node agent has reported yet.</p>
      ) : (
        <div className="scroll">
          <table className="cache-map">
            <caption className="sr-only">Which node holds which version, in what state</caption>
            <thead>
              <tr>
                <th scope="col">Node</th><th scope="col">Disk (used of budget)</th><th scope="col">Last report</th>
                {versions.map((version) => <th scope="col" key={version} className="vertical"><span>{version}</span></th>)}
              </tr>
            </thead>
            <tbody>
              {nodes.map((node) => {
                const entries = new Map((node.entries ?? []).map((entry) => [`${entry.project}/${entry.model}@${entry.version}`, entry]));
                return (
                  <tr key={node.name}>
                    <th scope="row">{node.name} <span className={node.ready ? 'ok' : 'error'}>{node.ready ? 'ready' : 'not ready'}</span></th>
                    <td>
                      <meter min={0} max={node.budgetBytes || 1} value={node.usedBytes} aria-label={`Disk of ${node.name}`} /> {bytes(node.usedBytes)} / {bytes(node.budgetBytes)}
                    </td>
                    <td><When at={node.lastHeartbeatAt} /></td>
                    {versions.map((version) => {
                      const entry = entries.get(version);
                      if (!entry) return <td key={version} className="cell-empty"><span className="sr-only">absent</span></td>;
                      return (
                        <td key={version} className={`cell state-${entry.state}`} title={`${version} on ${node.name}: ${entry.state}, ${bytes(entry.bytesDone)} of ${bytes(entry.bytesTotal)}`}>
                          {entry.state}
                          {entry.state === 'pulling' && <progress max={entry.bytesTotal || 1} value={entry.bytesDone} aria-label={`${version} on ${node.name}`} />}
                        </td>
                      );
                    })}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
