import { malformedHostFile, type HostFiles } from './host-files.js';

/** `/proc/uptime`: seconds since boot. */
export interface Uptime {
  uptimeSeconds: number;
}

function parseUptime(text: string): Uptime {
  const [uptime, idle] = text.trim().split(/\s+/).map(Number);
  if (!Number.isFinite(uptime) || !Number.isFinite(idle)) throw malformedHostFile('/proc/uptime', 'malformed');
  return { uptimeSeconds: uptime };
}

export function readUptime(files: HostFiles): Uptime {
  return parseUptime(files.readText('/proc/uptime'));
}
