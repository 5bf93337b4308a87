// Starts and stops the test cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
// and kwok, each a process of its own group with its pid in DIR/pids, its log in DIR/logs. stop()
// ends exactly those pids (and only while they still run a command naming DIR), so it also cleans
// up after a run that crashed; start() calls it first for that reason.
//
// It must run inside the network namespace test/cluster/cluster.sh makes: the apiserver listens on
// APISERVER_ADDRESS, which exists on that namespace's lo only.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  APISERVER_ADDRESS, HOST_ADDRESS, apiserverArgs, controllerManagerArgs, createPki, etcdArgs, kwokArgs,
  schedulerArgs, writeKubeconfig, type Ports, type SchedulerOptions,
} from './components';
import { eventually } from '../support/eventually';
import { get } from './probe';

/** What tests and tools need to know about a running cluster; written to DIR/cluster.json. */
export interface ClusterInfo {
  dir: string;
  binDir: string;
  /** An admin (system:masters) kubeconfig. */
  kubeconfig: string;
  server: string;
  /** Where a test's own servers listen so that the apiserver can reach them. */
  hostAddress: string;
  /** The admin's client certificate, for requests the typed clients do not cover. */
  admin: { cert: string; key: string };
  /** The cluster CA: it signs the apiserver's certificate, and tests sign their servers' with it. */
  ca: { cert: string; key: string };
  /** The CA of the certificate the apiserver presents to aggregated APIs (front-proxy-client). */
  frontProxyCa: string;
  ports: Ports;
  /** Milliseconds from startCluster() (certificates included) until every program answered. */
  startMs: number;
}

export interface StartOptions {
  dir: string;
  binDir: string;
  scheduler?: SchedulerOptions;
}

const PROGRAMS = ['kwok', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'] as const;

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function pidFile(dir: string, program: string): string {
  return join(dir, 'pids', `${program}.pid`);
}

/** True while PID runs a command line that names DIR: a recycled pid is somebody else's. */
function runsOurs(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${dir}/`);
  } catch {
    return false;
  }
}

function launch(dir: string, binDir: string, program: string, args: string[]): number {
  const log = openSync(join(dir, 'logs', `${program}.log`), 'a');
  // Its own process group, so that it outlives a test run that is killed and stop() can end it.
  const child = spawn(join(binDir, program), args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.once('error', () => undefined); // reported below: a program that did not start has no pid
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${program}`);
  writeFileSync(pidFile(dir, program), `${child.pid}\n`);
  return child.pid;
}

function logTail(dir: string, program: string): string {
  const path = join(dir, 'logs', `${program}.log`);
  if (!existsSync(path)) return '(no log)';
  return readFileSync(path, 'utf8').split('\n').slice(-25).join('\n');
}

/** Waits until PROBE answers, failing early (with the log) when PROGRAM has exited. */
async function waitReady(dir: string, program: string, pid: number, probe: () => Promise<boolean>): Promise<void> {
  await eventually(
    async () => {
      if (!runsOurs(pid, dir)) throw new Error(`${program} exited; the end of its log:\n${logTail(dir, program)}`);
      return probe();
    },
    `${program} to become ready`,
    { timeoutMs: 60_000, rethrow: true, explain: () => `the end of its log:\n${logTail(dir, program)}` },
  );
}

/** Starts a cluster in DIR (ending whatever a former run left there); on failure ends it again. */
export async function startCluster(options: StartOptions): Promise<ClusterInfo> {
  try {
    return await start(options);
  } catch (error) {
    await stopCluster(options.dir);
    throw error;
  }
}

async function start(options: StartOptions): Promise<ClusterInfo> {
  const { dir, binDir } = options;
  const started = Date.now();
  await stopCluster(dir);
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['pids', 'logs']) mkdirSync(join(dir, sub), { recursive: true });
  await freePort(APISERVER_ADDRESS).catch(() => {
    throw new Error(`${APISERVER_ADDRESS} is not an address here: run the cluster through test/cluster/cluster.sh`);
  });
  const ports: Ports = {
    etcd: await freePort('127.0.0.1'),
    etcdPeer: await freePort('127.0.0.1'),
    apiserver: await freePort(APISERVER_ADDRESS),
    controllerManager: await freePort('127.0.0.1'),
    scheduler: await freePort('127.0.0.1'),
    kwok: await freePort('127.0.0.1'),
  };
  const pki = createPki(join(dir, 'pki'));
  const server = `https://${APISERVER_ADDRESS}:${ports.apiserver}`;
  const kubeconfig = join(dir, 'admin.kubeconfig');
  writeKubeconfig(kubeconfig, server, pki.ca.cert, pki.clients.admin);
  writeKubeconfig(join(dir, 'controller-manager.kubeconfig'), server, pki.ca.cert, pki.clients.controllerManager);
  writeKubeconfig(join(dir, 'scheduler.kubeconfig'), server, pki.ca.cert, pki.clients.scheduler);

  const etcd = launch(dir, binDir, 'etcd', etcdArgs(dir, ports));
  await waitReady(dir, 'etcd', etcd, async () => (await get(`http://127.0.0.1:${ports.etcd}/health`)).status === 200);

  const apiserver = launch(dir, binDir, 'kube-apiserver', apiserverArgs(dir, ports, pki));
  const admin = { ca: pki.ca.cert, cert: pki.clients.admin.cert, key: pki.clients.admin.key };
  await waitReady(dir, 'kube-apiserver', apiserver, async () => (await get(`${server}/readyz`, admin)).status === 200);

  const others: [string, number, string][] = [
    ['kube-controller-manager', launch(dir, binDir, 'kube-controller-manager', controllerManagerArgs(dir, ports, pki)),
      `https://127.0.0.1:${ports.controllerManager}/healthz`],
    ['kube-scheduler', launch(dir, binDir, 'kube-scheduler', schedulerArgs(dir, ports, options.scheduler ?? {})),
      `https://127.0.0.1:${ports.scheduler}/healthz`],
    ['kwok', launch(dir, binDir, 'kwok', kwokArgs(dir, ports, binDir)), `http://127.0.0.1:${ports.kwok}/healthz`],
  ];
  await Promise.all(
    others.map(([program, pid, url]) =>
      waitReady(dir, program, pid, async () => (await get(url, { insecure: true })).status === 200),
    ),
  );
  // Pods are refused until their namespace's default ServiceAccount exists, which the
  // controller-manager creates: waiting for it shows the controllers act, not just listen.
  await waitReady(dir, 'kube-controller-manager', others[0][1], async () =>
    (await get(`${server}/api/v1/namespaces/default/serviceaccounts/default`, admin)).status === 200);

  const info: ClusterInfo = {
    dir, binDir, kubeconfig, server, hostAddress: HOST_ADDRESS,
    admin: pki.clients.admin, ca: pki.ca, frontProxyCa: pki.frontProxyCa.cert, ports, startMs: Date.now() - started,
  };
  writeFileSync(join(dir, 'cluster.json'), `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

export function readClusterInfo(dir: string): ClusterInfo {
  return JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as ClusterInfo;
}

async function stopProcess(dir: string, program: string): Promise<void> {
  const file = pidFile(dir, program);
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8').trim());
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig); // the whole group: anything the program started goes too
    } catch {
      /* already gone */
    }
  };
  if (pid > 0 && runsOurs(pid, dir)) {
    signal('SIGTERM');
    const ended = await eventually(async () => !runsOurs(pid, dir), `${program} to end`, { timeoutMs: 15_000, rethrow: true }).then(() => true, () => false);
    if (!ended) signal('SIGKILL');
  }
  rmSync(file, { force: true });
}

/**
 * Ends every program a cluster in DIR started, newest first, and removes its state but the logs,
 * which stay for a look after a failed run until the next start().
 */
export async function stopCluster(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  if (existsSync(join(dir, 'pids'))) {
    for (const program of PROGRAMS) await stopProcess(dir, program);
    const left = readdirSync(join(dir, 'pids'));
    if (left.length > 0) throw new Error(`unknown pid files left in ${dir}/pids: ${left.join(', ')}`);
  }
  for (const entry of readdirSync(dir)) {
    if (entry !== 'logs') rmSync(join(dir, entry), { recursive: true, force: true });
  }
}
