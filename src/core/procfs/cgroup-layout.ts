import { posix } from 'node:path';
import type { HostFiles } from './host-files.js';

/** Where one controller of this process's cgroup lives, as the kernel names the paths. */
export interface CgroupDir {
  version: 1 | 2;
  /** Directory of this process's cgroup, e.g. `/sys/fs/cgroup/memory/docker/abc`. */
  dir: string;
  /** Mount point of the hierarchy: the highest directory whose limits still apply to us. */
  mountPoint: string;
  /**
   * The path `/proc/self/cgroup` gives, e.g. `/docker/abc`: `/` is the hierarchy's root. `dir` cannot
   * tell, as a container may have its own subtree mounted at the mount point.
   */
  cgroupPath: string;
  /**
   * True for the host's own root cgroup (v2): its files are the host's figures by another name.
   * Every other v2 cgroup, a container's namespaced root included, has a `cgroup.type` file.
   */
  hostRoot?: true;
}

export interface CgroupLayout {
  /** `v2`: unified only; `v1`: legacy only; `hybrid`: both (v1 controllers, v2 for PSI); `none`. */
  mode: 'v1' | 'v2' | 'hybrid' | 'none';
  memory?: CgroupDir;
  cpu?: CgroupDir;
  /** CPU usage counters: v1 `cpuacct`, v2 the unified directory. */
  cpuacct?: CgroupDir;
  cpuset?: CgroupDir;
  /** The v2 directory, where present (holds the cgroup's own *.pressure files). */
  unified?: CgroupDir;
}

interface CgroupLine {
  hierarchyId: string;
  controllers: string[];
  path: string;
}

interface Mount {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** Parses `/proc/self/cgroup` (`id:controllers:path` lines; v2 is `0::path`). */
function parseProcCgroup(text: string): CgroupLine[] {
  const lines: CgroupLine[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    lines.push({ hierarchyId: line.slice(0, first), controllers: controllers === '' ? [] : controllers.split(','), path: line.slice(second + 1) });
  }
  return lines;
}

/** mountinfo escapes spaces and other bytes in paths as octal (`\040`). */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Parses the cgroup and cgroup2 mounts out of `/proc/self/mountinfo`. */
export function parseCgroupMounts(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    if (separator < 6) continue;
    const fsType = fields[separator + 1];
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    mounts.push({
      root: unescapeMountPath(fields[3]),
      mountPoint: unescapeMountPath(fields[4]),
      fsType,
      superOptions: (fields[separator + 3] ?? '').split(','),
    });
  }
  return mounts;
}

/**
 * Maps a cgroup path onto the mount of its hierarchy. With cgroup namespaces the path may not lie
 * under the mount's root (or the directory may not exist); then the mount point itself is ours.
 */
function locate(files: HostFiles, version: 1 | 2, mount: Mount, cgroupPath: string): CgroupDir {
  const relative = posix.relative(mount.root, cgroupPath);
  const underRoot = relative === '' || (!relative.startsWith('..') && !posix.isAbsolute(relative));
  const dir = underRoot ? posix.join(mount.mountPoint, relative) : mount.mountPoint;
  return { version, dir: files.exists(dir) ? dir : mount.mountPoint, mountPoint: mount.mountPoint, cgroupPath };
}

/**
 * Finds this process's cgroup directories from `/proc/self/cgroup` and `/proc/self/mountinfo`. Each
 * controller is taken from v1 when a v1 hierarchy has it mounted (hybrid hosts keep memory and cpu
 * there), else from the unified v2 hierarchy.
 */
export function detectCgroupLayout(files: HostFiles): CgroupLayout {
  const procCgroup = files.tryReadText('/proc/self/cgroup');
  const mountinfo = files.tryReadText('/proc/self/mountinfo');
  // Without both files (not Linux, or /proc hidden) there is no cgroup to read: host figures apply.
  if (procCgroup === undefined || mountinfo === undefined) return { mode: 'none' };
  const lines = parseProcCgroup(procCgroup);
  const mounts = parseCgroupMounts(mountinfo);

  const v1 = (controller: string): CgroupDir | undefined => {
    const line = lines.find((l) => l.controllers.includes(controller));
    if (!line) return undefined;
    const mount = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes(controller));
    return mount ? locate(files, 1, mount, line.path) : undefined;
  };

  const unifiedLine = lines.find((l) => l.hierarchyId === '0' && l.controllers.length === 0);
  const unifiedMount = mounts.find((m) => m.fsType === 'cgroup2');
  const unified = unifiedLine && unifiedMount ? locate(files, 2, unifiedMount, unifiedLine.path) : undefined;
  if (unified && unified.dir === unified.mountPoint && !files.exists(`${unified.dir}/cgroup.type`)) unified.hostRoot = true;

  const memory = v1('memory');
  const cpu = v1('cpu');
  const cpuacct = v1('cpuacct');
  const cpuset = v1('cpuset');
  const anyV1 = Boolean(memory || cpu || cpuacct || cpuset);
  return {
    mode: anyV1 && unified ? 'hybrid' : anyV1 ? 'v1' : unified ? 'v2' : 'none',
    memory: memory ?? unified,
    cpu: cpu ?? unified,
    cpuacct: cpuacct ?? unified,
    cpuset: cpuset ?? unified,
    unified,
  };
}

/** The cgroup directory and its ancestors up to the hierarchy's mount point, leaf first. */
export function cgroupLevels(dir: CgroupDir): string[] {
  const levels = [dir.dir];
  let current = dir.dir;
  while (current !== dir.mountPoint && current.startsWith(`${dir.mountPoint}/`)) {
    current = posix.dirname(current);
    levels.push(current);
  }
  return levels;
}

/** Source label for a figure read from a cgroup file, e.g. `cgroup2:/sys/fs/cgroup/memory.max`. */
export function cgroupSource(version: 1 | 2, path: string): string {
  return `cgroup${version}:${path}`;
}
