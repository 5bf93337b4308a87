// The test cluster's certificates, made with the openssl command (node:crypto makes keys but not
// X.509 certificates). EC P-256 keys: generating one takes milliseconds, so a cluster gets fresh
// ones at every start and nothing secret outlives it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertPaths {
  cert: string;
  key: string;
}

export interface CertRequest {
  /** Subject common name: the user name when the certificate authenticates a client. */
  commonName: string;
  /** Subject organizations: the groups of a client certificate. */
  organizations?: string[];
  /** Names a serving certificate answers to: IP addresses and DNS names. */
  ips?: string[];
  dnsNames?: string[];
  client?: boolean;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function subject(commonName: string, organizations: string[] = []): string {
  return [...organizations.map((o) => `/O=${o}`), `/CN=${commonName}`].join('');
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A self-signed certificate authority at DIR/NAME.crt and DIR/NAME.key. */
export function createCa(dir: string, name: string, commonName: string): CertPaths {
  const paths = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  openssl([
    'req', '-x509', ...ecKey, '-keyout', paths.key, '-out', paths.cert, '-days', '30',
    '-subj', subject(commonName),
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  return paths;
}

/** A certificate signed by CA at DIR/NAME.crt and DIR/NAME.key. */
export function issueCert(ca: CertPaths, dir: string, name: string, request: CertRequest): CertPaths {
  const paths = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const sans = [
    ...(request.ips ?? []).map((ip) => `IP:${ip}`),
    ...(request.dnsNames ?? []).map((dns) => `DNS:${dns}`),
  ];
  openssl([
    'req', '-x509', ...ecKey, '-keyout', paths.key, '-out', paths.cert, '-days', '30',
    '-CA', ca.cert, '-CAkey', ca.key,
    '-subj', subject(request.commonName, request.organizations),
    '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment',
    '-addext', `extendedKeyUsage=${request.client ? 'clientAuth' : 'serverAuth'}`,
    ...(sans.length > 0 ? ['-addext', `subjectAltName=${sans.join(',')}`] : []),
  ]);
  return paths;
}

/** A key pair for signing service-account tokens (private at DIR/NAME.key, public at .pub). */
export function createKeyPair(dir: string, name: string): { key: string; pub: string } {
  const paths = { key: join(dir, `${name}.key`), pub: join(dir, `${name}.pub`) };
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', paths.key]);
  openssl(['pkey', '-in', paths.key, '-pubout', '-out', paths.pub]);
  return paths;
}

/** A serving certificate for a test's own server (webhook, APIService), in memory. */
export function issueServingCert(
  ca: CertPaths,
  names: { ips?: string[]; dnsNames?: string[] },
): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-cert-'));
  try {
    const commonName = names.dnsNames?.[0] ?? names.ips?.[0] ?? 'test-server';
    const paths = issueCert(ca, dir, 'serving', { commonName, ...names });
    return { cert: readFileSync(paths.cert, 'utf8'), key: readFileSync(paths.key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
