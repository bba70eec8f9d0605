import { invalidArgument, notFound, permissionDenied } from '../errors.js';
import { errnoCode, type HostFiles } from './host-files.js';

/** The kernel's PID_MAX_LIMIT on 64-bit systems: no pid is larger. */
export const PID_MAX = 4_194_304;

/** Checks that `pid` is a positive integer pid, naming `field` in the error. */
export function validatePid(pid: unknown, field = 'pid'): number {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 1 || pid > PID_MAX) {
    throw invalidArgument(field, `must be a positive integer process id no larger than ${PID_MAX}`);
  }
  return pid;
}

/**
 * Reads `/proc/<pid>/<name>`, turning a missing process into notFound and an unreadable file into
 * permissionDenied, both naming the `pid` field.
 */
export function readPidFile(files: HostFiles, pid: number, name: string): string {
  validatePid(pid);
  try {
    return files.readText(`/proc/${pid}/${name}`);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ESRCH') {
      throw notFound('pid', `process ${pid} does not exist`);
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw permissionDenied('pid', `process ${pid}: /proc/${pid}/${name} is not readable by this service (${code})`);
    }
    throw error;
  }
}
