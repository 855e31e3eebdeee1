import { readFileSync } from 'node:fs';

/** Reads the VmRSS line of /proc/<pid>/status text, in bytes; undefined when absent. */
export function parseVmRss(status: string): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
}

/** Resident memory of a running process in bytes, from /proc (Linux only); undefined once it exited. */
export function residentBytes(pid: number): number | undefined {
  try {
    return parseVmRss(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}
