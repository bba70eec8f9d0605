import { cgroupLevels, cgroupSource, type CgroupDir } from './cgroup-layout.js';
import { parseFlatKeyed } from './flat-keyed.js';
import type { HostFiles } from './host-files.js';

/** v1 reports "no limit" as PAGE_COUNTER_MAX pages (~2^63 bytes); anything this large is no limit. */
const V1_UNLIMITED_BYTES = 2 ** 62;

/** Memory of this process's cgroup. */
export interface CgroupMemory {
  version: 1 | 2;
  usageBytes: number;
  inactiveFileBytes: number;
  /** usage minus inactive_file: page cache the kernel can drop at once is not pressure. */
  workingSetBytes: number;
  usageSource: string;
  /** The lowest limit on this cgroup or an ancestor; absent when there is none. */
  limitBytes?: number;
  limitSource?: string;
}

function readNumber(files: HostFiles, path: string): number | undefined {
  const text = files.tryReadText(path)?.trim();
  return text !== undefined && /^-?\d+$/.test(text) ? Number(text) : undefined;
}

interface Limit {
  bytes: number;
  source: string;
}

function lower(current: Limit | undefined, candidate: Limit | undefined): Limit | undefined {
  if (!candidate) return current;
  return !current || candidate.bytes < current.bytes ? candidate : current;
}

function v2Limit(files: HostFiles, dir: CgroupDir): Limit | undefined {
  let limit: Limit | undefined;
  for (const level of cgroupLevels(dir)) {
    for (const name of ['memory.max', 'memory.high']) {
      const path = `${level}/${name}`;
      const bytes = readNumber(files, path); // "max" (no limit) does not parse as a number
      if (bytes !== undefined) limit = lower(limit, { bytes, source: cgroupSource(2, path) });
    }
  }
  return limit;
}

function v1Limit(files: HostFiles, dir: CgroupDir, stat: Map<string, number>): Limit | undefined {
  let limit: Limit | undefined;
  for (const level of cgroupLevels(dir)) {
    const path = `${level}/memory.limit_in_bytes`;
    const bytes = readNumber(files, path);
    if (bytes !== undefined && bytes < V1_UNLIMITED_BYTES) limit = lower(limit, { bytes, source: cgroupSource(1, path) });
  }
  // Covers ancestors above our mount point, which a cgroup namespace hides from the walk above.
  const hierarchical = stat.get('hierarchical_memory_limit');
  if (hierarchical !== undefined && hierarchical < V1_UNLIMITED_BYTES) {
    limit = lower(limit, {
      bytes: hierarchical,
      source: cgroupSource(1, `${dir.dir}/memory.stat hierarchical_memory_limit`),
    });
  }
  return limit;
}

/** Reads the cgroup's memory use and limit; undefined where the cgroup has no memory accounting. */
export function readCgroupMemory(files: HostFiles, dir: CgroupDir | undefined): CgroupMemory | undefined {
  if (!dir) return undefined;
  const usagePath = `${dir.dir}/${dir.version === 2 ? 'memory.current' : 'memory.usage_in_bytes'}`;
  const usage = readNumber(files, usagePath);
  if (usage === undefined) return undefined;
  const stat = parseFlatKeyed(files.tryReadText(`${dir.dir}/memory.stat`) ?? '');
  const inactive =
    dir.version === 2 ? stat.get('inactive_file') : stat.get('total_inactive_file') ?? stat.get('inactive_file');
  const limit = dir.version === 2 ? v2Limit(files, dir) : v1Limit(files, dir, stat);
  return {
    version: dir.version,
    usageBytes: usage,
    inactiveFileBytes: inactive ?? 0,
    workingSetBytes: Math.max(0, usage - (inactive ?? 0)),
    usageSource: cgroupSource(dir.version, usagePath),
    limitBytes: limit?.bytes,
    limitSource: limit?.source,
  };
}
