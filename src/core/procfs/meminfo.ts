import { malformedHostFile, type HostFiles } from './host-files.js';

/** Host memory from `/proc/meminfo`, in bytes. */
export interface Meminfo {
  totalBytes: number;
  /** MemAvailable, or MemFree + Buffers + Cached on kernels older than 3.14. */
  availableBytes: number;
}

export function parseMeminfo(text: string): Meminfo {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([\w()]+):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (match) fields.set(match[1], Number(match[2]) * (line.includes('kB') ? 1024 : 1));
  }
  const total = fields.get('MemTotal');
  if (total === undefined) throw malformedHostFile('/proc/meminfo', 'no MemTotal line');
  const free = fields.get('MemFree') ?? 0;
  const available =
    fields.get('MemAvailable') ?? free + (fields.get('Buffers') ?? 0) + (fields.get('Cached') ?? 0);
  return { totalBytes: total, availableBytes: available };
}

export function readMeminfo(files: HostFiles): Meminfo {
  return parseMeminfo(files.readText('/proc/meminfo'));
}
