import type { CgroupLayout } from './cgroup-layout.js';
import { cgroupSource } from './cgroup-layout.js';
import type { HostFiles } from './host-files.js';

/** One `some`/`full` line: percent of time stalled over the last 10 s, the span pressure acts on. */
export interface PsiLine {
  avg10: number;
}

export interface PsiResource {
  some: PsiLine;
  /** Absent for cpu on kernels before 5.13 (the line is missing) and outside cgroups where meaningless. */
  full?: PsiLine;
}

export type PsiResourceName = 'cpu' | 'memory' | 'io';

/** Pressure stall information; resources the kernel does not report are listed in `absent`. */
export interface Pressure {
  cpu?: PsiResource;
  memory?: PsiResource;
  io?: PsiResource;
  absent: PsiResourceName[];
  /** e.g. `/proc/pressure` or `cgroup2:/sys/fs/cgroup/app` (the cgroup's own *.pressure files). */
  source: string;
  /**
   * Why these figures are not this process's own, when they are not: host-wide PSI read by a
   * process that v1 controllers place below their root (a container, a v1 host's service unit),
   * its cgroup2 being the host's root or absent, counts every tenant's stalls.
   */
  sharedWith?: string;
}

/** The kernel writes averages as `12.34` and totals as integers; anything else (`-5`, `0x50`, ``) is no figure. */
const PSI_VALUE = /^\d+(?:\.\d+)?$/;

function parseLine(text: string): PsiLine | undefined {
  const values = new Map<string, number>();
  for (const pair of text.trim().split(/\s+/).slice(1)) {
    const [key, value] = pair.split('=');
    if (key && value !== undefined && PSI_VALUE.test(value)) values.set(key, Number(value));
  }
  const avg10 = values.get('avg10');
  // The kernel always writes avg60=, avg300= and total=; a line without them is not a PSI line, though their figures go unused.
  if (avg10 === undefined || !values.has('avg60') || !values.has('avg300') || !values.has('total')) return undefined;
  return { avg10 };
}

/** Parses a PSI file; undefined if it has no valid `some` line. */
export function parsePsi(text: string): PsiResource | undefined {
  let some: PsiLine | undefined;
  let full: PsiLine | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('some ')) some = parseLine(line);
    if (line.startsWith('full ')) full = parseLine(line);
  }
  return some ? { some, full } : undefined;
}

const RESOURCES: PsiResourceName[] = ['cpu', 'memory', 'io'];

/**
 * Reads PSI. A v2 cgroup's own `*.pressure` files describe stalls of this container's tasks, so they
 * are preferred to the host-wide `/proc/pressure`. Missing files are normal on older kernels.
 */
export function readPressure(files: HostFiles, layout: CgroupLayout): Pressure {
  const unified = layout.unified;
  const useCgroup = unified !== undefined && !unified.hostRoot && files.exists(`${unified.dir}/cpu.pressure`);
  const pathOf = (resource: PsiResourceName): string =>
    useCgroup ? `${unified.dir}/${resource}.pressure` : `/proc/pressure/${resource}`;
  const pressure: Pressure = {
    absent: [],
    source: useCgroup ? cgroupSource(2, unified.dir) : '/proc/pressure',
  };
  for (const resource of RESOURCES) {
    const text = files.tryReadText(pathOf(resource));
    const parsed = text === undefined ? undefined : parsePsi(text);
    if (parsed) pressure[resource] = parsed;
    else pressure.absent.push(resource);
  }
  const container = useCgroup ? undefined : v1Container(layout);
  if (container) {
    const why = unified ? "its cgroup2 is the host's root" : 'there is no cgroup2 to read its own from';
    pressure.sharedWith = `host-wide, other tenants' stalls included: this process is in the v1 cgroup ${container} and ${why}`;
  }
  return pressure;
}

/**
 * A v1 cgroup below its hierarchy's root that holds this process, if any: a container's. Told by the
 * kernel's path, not the directory: Docker mounts a container's own subtree at the mount point.
 */
function v1Container(layout: CgroupLayout): string | undefined {
  for (const dir of [layout.memory, layout.cpu, layout.cpuacct, layout.cpuset]) {
    if (dir?.version === 1 && dir.cgroupPath !== '/') return dir.cgroupPath;
  }
  return undefined;
}
