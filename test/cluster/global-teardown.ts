// Ends the run's cluster; its logs stay in WHARF_CLUSTER_STATE/logs until the next run.
import { stopCluster } from './runner';

export default async function globalTeardown(): Promise<void> {
  const dir = process.env.WHARF_CLUSTER_STATE;
  if (dir) await stopCluster(dir);
}
