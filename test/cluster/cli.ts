// `npm run cluster:up` / `cluster:down` end here, inside the cluster's network namespace
// (test/cluster/cluster.sh puts them there):
//   cli.ts up DIR BIN_DIR    start a cluster whose state lives in DIR, print how to reach it
//   cli.ts down DIR          stop it (also one left behind by a crash)
import { startCluster, stopCluster } from './runner';

async function main(): Promise<void> {
  const [command, dir, binDir] = process.argv.slice(2);
  if (command === 'up' && dir && binDir) {
    const info = await startCluster({ dir, binDir });
    console.log(`cluster ready in ${(info.startMs / 1000).toFixed(1)} s: ${info.server}`);
    console.log(`kubeconfig: ${info.kubeconfig}`);
    console.log(`logs: ${dir}/logs; commands reach it through: npm run cluster:exec -- <command>`);
  } else if (command === 'down' && dir) {
    await stopCluster(dir);
  } else {
    throw new Error('usage: cli.ts up DIR BIN_DIR | down DIR');
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
