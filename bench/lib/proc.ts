/** Process measurements from /proc (Linux): RSS and CPU time of a pid, or of a pid and its descendants. */
import { readdirSync, readFileSync } from 'node:fs';

export function rssKiB(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m?.[1] ? Number(m[1]) : 0;
}

/**
 * user+system CPU seconds in a /proc stat line (clock ticks of 1/100 s on Linux); with `reaped`,
 * also those of the children it has waited for (cutime, cstime): a forking server such as sshd,
 * whose per-connection processes are gone once reaped.
 */
function statCpuSeconds(stat: string, reaped = false): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const own = Number(fields[11]) + Number(fields[12]);
  return (reaped ? own + Number(fields[13]) + Number(fields[14]) : own) / 100;
}

/** user+system CPU seconds of a pid, all its threads. */
export function cpuSeconds(pid: number): number {
  return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** user+system CPU seconds of the live threads of `pid` whose name (comm) is `name`. */
export function namedThreadsCpuSeconds(pid: number, name: string): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() !== name) continue;
      total += statCpuSeconds(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    } catch {
      // the thread ended between listing and reading
    }
  }
  return total;
}

/** `pid` and every live descendant (with `serve --workers N` the gateway is a primary and its workers). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop() as number;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

function sumOver(pids: readonly number[], f: (pid: number) => number): number {
  let total = 0;
  for (const p of pids) {
    try {
      total += f(p);
    } catch {
      // exited between listing and reading
    }
  }
  return total;
}

/** user+system CPU seconds of `pid` and its live descendants. */
export function treeCpuSeconds(pid: number): number {
  return sumOver(processTree(pid), cpuSeconds);
}

/**
 * CPU seconds of `pid` and its live descendants, with what every one of them has reaped: the
 * whole cost of an sshd listener's connections, the ended ones included.
 */
export function treeCpuWithReapedSeconds(pid: number): number {
  return sumOver(processTree(pid), (p) => statCpuSeconds(readFileSync(`/proc/${p}/stat`, 'utf8'), true));
}

/** CPU seconds of the threads named `name` in `pid` and its live descendants. */
export function treeNamedThreadsCpuSeconds(pid: number, name: string): number {
  return sumOver(processTree(pid), (p) => namedThreadsCpuSeconds(p, name));
}

/** RSS of `pid` and its live descendants, KiB. */
export function treeRssKiB(pid: number): number {
  return sumOver(processTree(pid), rssKiB);
}

/**
 * Busy CPU seconds of the whole machine, all cores, since boot (/proc/stat: user, nice, system,
 * irq and softirq; not idle, iowait or steal).
 */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0)) / 100;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
