import { availableCores, type AvailableCores } from './available-cores.js';
import { readCgroupCpu, type CgroupCpu } from './cgroup-cpu.js';
import { detectCgroupLayout, type CgroupLayout } from './cgroup-layout.js';
import { readCgroupMemory, type CgroupMemory } from './cgroup-memory.js';
import { readOnlineCpus, type OnlineCpus } from './cpu-list.js';
import { readCpuTimes, type CpuTimes } from './cpu-times.js';
import { HostFiles } from './host-files.js';
import { readLiveThread } from './live-thread.js';
import { readMeminfo, type Meminfo } from './meminfo.js';
import { memoryUsage, type MemoryUsage } from './memory-usage.js';
import { readProcessIo, type ProcessIo } from './process-io.js';
import { readProcessStat, type ProcessStat } from './process-stat.js';
import { readProcessStatus, type ProcessStatus } from './process-status.js';
import { readPressure, type Pressure } from './psi.js';
import { readSelfPid } from './self-pid.js';
import { readSystemConstants, type SystemConstants } from './system-constants.js';
import { readUptime, type Uptime } from './uptime.js';

export interface ProcReaderOptions {
  /** Filesystem root the kernel files are read under; tests point it at a fixture tree. Default `/`. */
  root?: string;
}

/**
 * The /proc, /sys and cgroup readers behind one object, so engines take a single injected reader.
 * Every call reads the files afresh, except the system constants, this service's pid and the cgroup
 * layout, which do not change while the process runs (a process moved to another cgroup is the rare
 * exception).
 */
export class ProcReader {
  readonly files: HostFiles;
  private constants?: SystemConstants;
  private layout?: CgroupLayout;
  private ownPid?: number;

  constructor(options: ProcReaderOptions = {}) {
    this.files = new HostFiles(options.root ?? '/');
  }

  /**
   * This service's pid in the /proc being read (see readSelfPid); `process.pid` where that /proc has
   * no `self` link. Read once: a process keeps its pid.
   */
  selfPid(): number {
    this.ownPid ??= readSelfPid(this.files) ?? process.pid;
    return this.ownPid;
  }

  processStat(pid: number): ProcessStat {
    return readProcessStat(this.files, pid);
  }

  processStatus(pid: number): ProcessStatus {
    return readProcessStatus(this.files, pid);
  }

  /** A running thread of a process whose first thread has exited (see readLiveThread). */
  liveThread(pid: number): { stat: ProcessStat; status: ProcessStatus } | undefined {
    return readLiveThread(this.files, pid);
  }

  processIo(pid: number): ProcessIo {
    return readProcessIo(this.files, pid);
  }

  systemConstants(): SystemConstants {
    this.constants ??= readSystemConstants(this.files);
    return this.constants;
  }

  meminfo(): Meminfo {
    return readMeminfo(this.files);
  }

  cpuTimes(): CpuTimes {
    return readCpuTimes(this.files);
  }

  uptime(): Uptime {
    return readUptime(this.files);
  }

  onlineCpus(): OnlineCpus {
    return readOnlineCpus(this.files);
  }

  cgroupLayout(): CgroupLayout {
    this.layout ??= detectCgroupLayout(this.files);
    return this.layout;
  }

  cgroupMemory(): CgroupMemory | undefined {
    return readCgroupMemory(this.files, this.cgroupLayout().memory);
  }

  cgroupCpu(): CgroupCpu {
    return readCgroupCpu(this.files, this.cgroupLayout());
  }

  /** Cores this process may use: the cgroup quota or cpuset where one is lower, else online CPUs. */
  availableCores(cgroupCpu: CgroupCpu = this.cgroupCpu()): AvailableCores {
    return availableCores(this.onlineCpus(), cgroupCpu);
  }

  /** Memory used against the binding limit (cgroup where it binds, else the host). */
  memoryUsage(): MemoryUsage {
    return memoryUsage(this.meminfo(), this.cgroupMemory());
  }

  pressure(): Pressure {
    return readPressure(this.files, this.cgroupLayout());
  }
}
