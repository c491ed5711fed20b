import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** Process figures read from /proc (Linux): what the bench reports as memory and CPU. */

const PAGE_TICKS_PER_S = 100; // USER_HZ: 100 on every Linux this runs on

/** Resident set size in bytes (VmRSS), all threads of the process included. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) * 1024;
}

/** Proportional set size in bytes: shared pages split between the processes that map them. */
export function pssBytes(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = /^Pss:\s+(\d+) kB/m.exec(rollup)?.[1];
  if (kb === undefined) throw new Error(`no Pss for ${pid}`);
  return Number(kb) * 1024;
}

/** CPU seconds (user + system) the process has used so far, every thread included. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / PAGE_TICKS_PER_S;
}

/**
 * CPU seconds used so far by every process of this machine whose command name starts with `commandPrefix`
 * (`postgres`: the server and its backends; 0 when PostgreSQL runs elsewhere). Processes gone since the last call
 * drop out, so take differences over windows in which the backends stay (a pool keeps its connections).
 */
export function processesCpuSeconds(commandPrefix: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (!stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith(commandPrefix)) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += (Number(fields[11]) + Number(fields[12])) / PAGE_TICKS_PER_S;
  }
  return total;
}

export function machine(): { cpu: string; cores: number; memoryGb: number; node: string; platform: string } {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export const MB = 1024 * 1024;
