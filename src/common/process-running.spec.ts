import { spawnSync } from 'node:child_process';
import { isProcessRunning } from './process-running';

describe('isProcessRunning', () => {
  it('sees this process and its parent', () => {
    expect(isProcessRunning(process.pid)).toBe(true);
    expect(isProcessRunning(process.ppid)).toBe(true);
  });

  it('does not see a process that has exited, nor pids that cannot exist', () => {
    const exited = spawnSync(process.execPath, ['-e', '0']).pid!;
    expect(isProcessRunning(exited)).toBe(false);
    // Above Linux's pid_max ceiling (2^22): never a process.
    for (const pid of [2 ** 22 + 1, 0, -1, Number.NaN, 1.5]) expect(isProcessRunning(pid)).toBe(false);
  });
});
