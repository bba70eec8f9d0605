/**
 * A process whose first thread has exited while others run (its main thread called pthread_exit):
 * /proc/<pid>/stat says Z, as for a process that has exited, and /proc/<pid>/status has no memory
 * lines, yet the process runs, and its group CPU times in /proc/<pid>/stat still grow. Its state
 * and memory are those of a thread still running, under /proc/<pid>/task.
 */
import { exitedState, parseProcessStat, type ProcessStat } from './process-stat.js';
import { parseProcessStatus, type ProcessStatus } from './process-status.js';
import type { HostFiles } from './host-files.js';

/** A running thread of `pid` other than the first, or undefined when none is left. */
export function readLiveThread(files: HostFiles, pid: number): { stat: ProcessStat; status: ProcessStatus } | undefined {
  for (const name of files.tryList(`/proc/${pid}/task`) ?? []) {
    if (name === String(pid) || !/^\d+$/.test(name)) continue;
    // A thread may end between the listing and the read.
    const statText = files.tryReadText(`/proc/${pid}/task/${name}/stat`);
    const statusText = files.tryReadText(`/proc/${pid}/task/${name}/status`);
    if (statText === undefined || statusText === undefined) continue;
    const stat = parseProcessStat(statText);
    if (exitedState(stat) === undefined) return { stat, status: parseProcessStatus(statusText) };
  }
  return undefined;
}
