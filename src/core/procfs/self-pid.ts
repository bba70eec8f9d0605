import { readlinkSync } from 'node:fs';
import { errnoCode, type HostFiles } from './host-files.js';

/**
 * This process's pid as the /proc being read numbers it: the target of `/proc/self`, which procfs
 * gives in the pid namespace of that procfs. It differs from `process.pid` when the service reads
 * another namespace's /proc (a container reading the host's through RS3GW_FS_ROOT, or `unshare -p`
 * without a new /proc mount). Undefined where `/proc/self` is no link to a pid (fixture trees).
 */
export function readSelfPid(files: HostFiles): number | undefined {
  let target: string;
  try {
    target = readlinkSync(files.resolve('/proc/self'));
  } catch (error) {
    // ENOENT: no such entry; EINVAL: a directory or file, not a link.
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'EINVAL') return undefined;
    throw error;
  }
  return /^[1-9]\d*$/.test(target) ? Number(target) : undefined;
}
