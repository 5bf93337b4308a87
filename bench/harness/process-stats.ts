/**
 * What a child process costs, read from /proc (Linux): resident memory now and at its peak, and
 * the CPU seconds it has used. For benches that put Wharf's memory or CPU beside a target.
 */
import { readFile } from 'node:fs/promises';

/** VmRSS (now) or VmHWM (the peak so far) of a process, in bytes. */
export async function rssOfPid(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc/{pid}/stat. */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at index 2 of the split.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * The peak resident set of `pid` while `work` runs: VmHWM is the kernel's own high-water mark,
 * read every 100 ms and once more at the end, so a short spike between two reads still counts.
 */
export async function peakRssWhile(pid: number, work: () => Promise<void>): Promise<number> {
  const read = () => rssOfPid(pid, 'VmHWM');
  let peak = await read();
  const timer = setInterval(() => void read().then((value) => (peak = Math.max(peak, value)), () => undefined), 100);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, await read());
}
