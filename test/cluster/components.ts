// What each program of the test cluster is started with: its certificates, kubeconfig and flags.
// Everything lives in the cluster's state folder, so two clusters never share a file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, createKeyPair, issueCert, type CertPaths } from './pki';

/**
 * Addresses on the network namespace's own `lo` (test/cluster/cluster.sh puts 10.96.0.0/24 there).
 * They are outside 127.0.0.0/8 because Endpoints refuse loopback addresses, and the apiserver's own
 * `kubernetes` Service and every aggregated API are reached through Endpoints.
 */
export const APISERVER_ADDRESS = '10.96.0.1';
/** Where a test's own servers (webhooks, APIServices) listen, as if on a host beside the cluster. */
export const HOST_ADDRESS = '10.96.0.2';
const KWOK_NODE_ADDRESS = '10.96.0.3';
const SERVICE_CIDR = '10.97.0.0/16';
const POD_CIDR = '10.244.0.1/16';
/** Nodes kwok keeps Ready carry this annotation (test/support/cluster.ts sets it). */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

export interface Ports {
  etcd: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
}

export interface Pki {
  ca: CertPaths;
  frontProxyCa: CertPaths;
  serving: CertPaths;
  frontProxyClient: CertPaths;
  serviceAccount: { key: string; pub: string };
  clients: Record<'admin' | 'controllerManager' | 'scheduler', CertPaths>;
}

export function createPki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  const ca = createCa(dir, 'ca', 'wharf-test-cluster-ca');
  const frontProxyCa = createCa(dir, 'front-proxy-ca', 'wharf-test-front-proxy-ca');
  const client = (name: string, commonName: string, organizations: string[] = []) =>
    issueCert(ca, dir, name, { commonName, organizations, client: true });
  return {
    ca,
    frontProxyCa,
    serving: issueCert(ca, dir, 'apiserver', {
      commonName: 'kube-apiserver',
      ips: [APISERVER_ADDRESS, '127.0.0.1', SERVICE_CIDR.replace(/0\/16$/, '1')],
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    }),
    frontProxyClient: issueCert(frontProxyCa, dir, 'front-proxy-client', {
      commonName: 'front-proxy-client',
      client: true,
    }),
    serviceAccount: createKeyPair(dir, 'service-account'),
    clients: {
      admin: client('admin', 'wharf-test-admin', ['system:masters']),
      controllerManager: client('controller-manager', 'system:kube-controller-manager'),
      scheduler: client('scheduler', 'system:kube-scheduler'),
    },
  };
}

/** A kubeconfig (JSON is valid YAML) for one client certificate. */
export function writeKubeconfig(path: string, server: string, ca: string, client: CertPaths): void {
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'wharf-test', cluster: { server, 'certificate-authority': ca } }],
    users: [{ name: 'user', user: { 'client-certificate': client.cert, 'client-key': client.key } }],
    contexts: [{ name: 'wharf-test', context: { cluster: 'wharf-test', user: 'user' } }],
    'current-context': 'wharf-test',
  };
  writeFileSync(path, `${JSON.stringify(kubeconfig, null, 2)}\n`);
}

export function etcdArgs(dir: string, ports: Ports): string[] {
  const client = `http://127.0.0.1:${ports.etcd}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    '--name=wharf', `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=wharf=${peer}`,
    // A throwaway store: losing it in a power cut costs nothing, and fsync is slow on shared disks.
    '--unsafe-no-fsync', '--log-level=warn',
  ];
}

export function apiserverArgs(dir: string, ports: Ports, pki: Pki): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
    `--bind-address=${APISERVER_ADDRESS}`, `--advertise-address=${APISERVER_ADDRESS}`,
    `--secure-port=${ports.apiserver}`,
    `--tls-cert-file=${pki.serving.cert}`, `--tls-private-key-file=${pki.serving.key}`,
    `--client-ca-file=${pki.ca.cert}`,
    '--authorization-mode=RBAC',
    `--service-account-key-file=${pki.serviceAccount.pub}`,
    `--service-account-signing-key-file=${pki.serviceAccount.key}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    // On by default already; named so that nobody turns them off by accident.
    '--enable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook',
    // The aggregation layer: the apiserver proxies /apis/<group>/<version> of an APIService to its
    // backend with this client certificate and the caller's identity in these headers, and dials
    // the Service's endpoints itself (there is no kube-proxy to route a ClusterIP).
    `--requestheader-client-ca-file=${pki.frontProxyCa.cert}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
    `--proxy-client-key-file=${pki.frontProxyClient.key}`,
    '--enable-aggregator-routing=true',
    '--allow-privileged=true',
    '--profiling=false',
  ];
}

function componentArgs(ports: number, kubeconfig: string, certDir: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1', `--secure-port=${ports}`, `--cert-dir=${certDir}`,
    '--leader-elect=false', '--profiling=false',
  ];
}

export function controllerManagerArgs(dir: string, ports: Ports, pki: Pki): string[] {
  return [
    ...componentArgs(ports.controllerManager, join(dir, 'controller-manager.kubeconfig'), join(dir, 'kcm-certs')),
    // Each controller acts as its own service account, with its own RBAC role, as in a real cluster.
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${pki.serviceAccount.key}`,
    `--root-ca-file=${pki.ca.cert}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    // Autoscaling tests should not wait the default 15 s for each look at the metrics.
    '--horizontal-pod-autoscaler-sync-period=1s',
  ];
}

export interface SchedulerOptions {
  /** kube-scheduler extenders (KubeSchedulerConfiguration `extenders`), e.g. Wharf's own. */
  extenders?: unknown[];
}

/** The scheduler reads a config file, so later work can add an extender or a profile to it. */
export function schedulerArgs(dir: string, ports: Ports, options: SchedulerOptions): string[] {
  const kubeconfig = join(dir, 'scheduler.kubeconfig');
  const config = {
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    clientConnection: { kubeconfig },
    leaderElection: { leaderElect: false },
    profiles: [{ schedulerName: 'default-scheduler' }],
    ...(options.extenders ? { extenders: options.extenders } : {}),
  };
  const path = join(dir, 'scheduler-config.yaml');
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  return [
    `--config=${path}`,
    `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1', `--secure-port=${ports.scheduler}`, `--cert-dir=${join(dir, 'scheduler-certs')}`,
  ];
}

export function kwokArgs(dir: string, ports: Ports, binDir: string): string[] {
  return [
    `--kubeconfig=${join(dir, 'admin.kubeconfig')}`,
    `--config=${join(binDir, 'kwok-stages.yaml')}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
    `--node-ip=${KWOK_NODE_ADDRESS}`, `--cidr=${POD_CIDR}`,
    `--server-address=127.0.0.1:${ports.kwok}`,
    '--node-lease-duration-seconds=40',
  ];
}
