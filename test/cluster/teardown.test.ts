// The runner's clean-up after a crash: a run killed mid-way leaves its programs running and their
// pid files behind; the next start (or cluster:down) must end exactly those and nothing else.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopCluster } from './runner';

let dir: string;
const children: ChildProcess[] = [];

/** A stand-in for a program: `sleep` showing COMMAND_LINE in /proc, in a process group of its own. */
function standIn(commandLine: string): ChildProcess {
  const child = spawn('bash', ['-c', `exec -a "${commandLine}" sleep 300`], { detached: true, stdio: 'ignore' });
  children.push(child);
  return child;
}

const ended = (child: ChildProcess) =>
  new Promise<NodeJS.Signals | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode);
    else child.once('exit', (_code, signal) => resolve(signal));
  });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wharf-teardown-'));
  mkdirSync(join(dir, 'pids'));
  mkdirSync(join(dir, 'logs'));
});

afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

it('ends the programs a crashed run left behind and removes their state but the logs', async () => {
  const etcd = standIn(`etcd --data-dir=${dir}/etcd`);
  writeFileSync(join(dir, 'pids', 'etcd.pid'), `${etcd.pid}\n`);
  writeFileSync(join(dir, 'logs', 'etcd.log'), 'last words\n');
  writeFileSync(join(dir, 'admin.kubeconfig'), '{}');

  await stopCluster(dir);

  expect(await ended(etcd)).toBe('SIGTERM');
  expect(existsSync(join(dir, 'pids'))).toBe(false);
  expect(existsSync(join(dir, 'admin.kubeconfig'))).toBe(false);
  expect(existsSync(join(dir, 'logs', 'etcd.log'))).toBe(true);
});

it('leaves alone a process that has since taken over a recorded pid', async () => {
  const stranger = standIn('somebody-else --serve');
  writeFileSync(join(dir, 'pids', 'kube-apiserver.pid'), `${stranger.pid}\n`);

  await stopCluster(dir);

  expect(existsSync(join(dir, 'pids'))).toBe(false);
  // Still running: it ends by the signal sent now. Had stopCluster sent SIGTERM, that would have
  // ended it first (a lower-numbered pending signal is delivered first).
  stranger.kill('SIGVTALRM');
  expect(await ended(stranger)).toBe('SIGVTALRM');
});
