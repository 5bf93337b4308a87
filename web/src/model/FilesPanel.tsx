import { api, unwrap } from '../api/client';
import { bytes, Digest, Section, Status } from '../components/ui';
import { usePoll } from '../usePoll';

export function FilesPanel({ project, model, version, onClose }: { project: string; model: string; version: number; onClose: () => void }) {
  const files = usePoll(
    () => unwrap(api.GET('/api/v1/projects/{project}/models/{model}/versions/{ref}/files', { params: { path: { project, model, ref: String(version) } } })),
    [project, model, version],
    0,
  );
  const total = files.data?.items.reduce((sum, file) => sum + file.size, 0) ?? 0;
  return (
    <Section title={`Files of @${version}`} actions={<button type="button" className="secondary" onClick={onClose}>Close</button>}>
      <Status loading={files.loading} error={files.error} />
      {files.data && (
        <>
          <p>{files.data.items.length} files, {bytes(total)} · manifest <Digest value={files.data.manifestDigest} /></p>
          <table>
            <caption className="sr-only">Files of version {version} with sizes and sha256 digests</caption>
            <thead><tr><th scope="col">Path</th><th scope="col" className="num">Size</th><th scope="col">sha256</th></tr></thead>
            <tbody>
              {files.data.items.map((file) => (
                <tr key={file.path}>
                  <th scope="row"><code>{file.path}</code></th>
                  <td className="num" title={`${file.size} bytes`}>{bytes(file.size)}</td>
                  <td><code className="digest-full">{file.sha256}</code></td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Section>
  );
}
