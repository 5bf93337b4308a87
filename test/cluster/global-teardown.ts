import { stopCluster } from './runner';

export default async function globalTeardown(): Promise<void> {
  const dir = process.env.WHARF_CLUSTER_STATE;
  if (dir && process.env.WHARF_CLUSTER_KEEP !== '1') await stopCluster(dir);
}
