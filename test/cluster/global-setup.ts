// One cluster per test run: started before the first test file, its description left in
// WHARF_CLUSTER_STATE/cluster.json for the test files (test/support/cluster.ts reads it).
import { startCluster } from './runner';

export default async function globalSetup(): Promise<void> {
  const dir = process.env.WHARF_CLUSTER_STATE;
  const binDir = process.env.WHARF_CLUSTER_BIN;
  if (!dir || !binDir) throw new Error('run the cluster suite with `npm run test:cluster` (test/cluster/cluster.sh)');
  const info = await startCluster({ dir, binDir });
  console.log(`\ntest cluster ready in ${(info.startMs / 1000).toFixed(1)} s at ${info.server} (logs: ${dir}/logs)`);
}
