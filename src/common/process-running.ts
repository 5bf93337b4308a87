/**
 * Whether a process with this pid runs on this machine: the owner of a lock file or of a spool
 * directory may be gone (killed, crashed) and its leftovers are then free to take or delete.
 * EPERM means it runs, as another user.
 */
export function isProcessRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
