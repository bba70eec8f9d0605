import { cgroupLevels, cgroupSource, type CgroupDir } from './cgroup-layout.js';
import { parseFlatKeyed } from './flat-keyed.js';
import type { HostFiles } from './host-files.js';

/** v1 reports "no limit" as PAGE_COUNTER_MAX pages (~2^63 bytes); anything this large is no limit. */
const V1_UNLIMITED_BYTES = 2 ** 62;

/** Memory of the cgroup whose limit binds this process: its own, or an ancestor's. */
export interface CgroupMemory {
  version: 1 | 2;
  usageBytes: number;
  inactiveFileBytes: number;
  /** usage minus inactive_file: page cache the kernel can drop at once is not pressure. */
  workingSetBytes: number;
  usageSource: string;
  /**
   * The limit nearest to being reached, on this cgroup or an ancestor (the usage above is that
   * cgroup's, which counts its other members too); absent when there is none.
   */
  limitBytes?: number;
  limitSource?: string;
}

function readNumber(files: HostFiles, path: string): number | undefined {
  const text = files.tryReadText(path)?.trim();
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/**
 * A limit a running process can be under: a limit of 0 (which no kernel reports for a cgroup with
 * a task in it) would put every figure at 0 % or infinity, so it is read as none.
 */
function readLimit(files: HostFiles, path: string): number | undefined {
  const bytes = readNumber(files, path);
  return bytes !== undefined && bytes > 0 ? bytes : undefined;
}

interface Limit {
  bytes: number;
  source: string;
}

interface Usage {
  usageBytes: number;
  inactiveFileBytes: number;
  workingSetBytes: number;
  usageSource: string;
}

function lower(current: Limit | undefined, candidate: Limit | undefined): Limit | undefined {
  if (!candidate) return current;
  return !current || candidate.bytes < current.bytes ? candidate : current;
}

/** The limit set on one cgroup directory itself (v2: the lower of memory.max and memory.high). */
function levelLimit(files: HostFiles, version: 1 | 2, level: string): Limit | undefined {
  if (version === 1) {
    const path = `${level}/memory.limit_in_bytes`;
    const bytes = readLimit(files, path);
    return bytes !== undefined && bytes < V1_UNLIMITED_BYTES ? { bytes, source: cgroupSource(1, path) } : undefined;
  }
  let limit: Limit | undefined;
  for (const name of ['memory.max', 'memory.high']) {
    const path = `${level}/${name}`;
    const bytes = readLimit(files, path); // "max" (no limit) does not parse as a number
    if (bytes !== undefined) limit = lower(limit, { bytes, source: cgroupSource(2, path) });
  }
  return limit;
}

function levelUsage(files: HostFiles, version: 1 | 2, level: string): (Usage & { stat: Map<string, number> }) | undefined {
  const usagePath = `${level}/${version === 2 ? 'memory.current' : 'memory.usage_in_bytes'}`;
  const usage = readNumber(files, usagePath);
  if (usage === undefined) return undefined;
  const stat = parseFlatKeyed(files.tryReadText(`${level}/memory.stat`) ?? '');
  const inactive = (version === 2 ? stat.get('inactive_file') : stat.get('total_inactive_file') ?? stat.get('inactive_file')) ?? 0;
  return {
    usageBytes: usage,
    inactiveFileBytes: inactive,
    workingSetBytes: Math.max(0, usage - inactive),
    usageSource: cgroupSource(version, usagePath),
    stat,
  };
}

/**
 * Reads the cgroup's memory use against the limit that binds it; undefined where the cgroup has no
 * memory accounting. A limit on an ancestor counts everything below it (siblings included), so it is
 * compared with that ancestor's own usage; of all the limits, the one nearest to being reached binds.
 */
export function readCgroupMemory(files: HostFiles, dir: CgroupDir | undefined): CgroupMemory | undefined {
  if (!dir) return undefined;
  const leaf = levelUsage(files, dir.version, dir.dir);
  if (!leaf) return undefined;
  const { stat, ...own } = leaf;
  let binding: (Usage & Limit) | undefined;
  const consider = (usage: Usage, limit: Limit | undefined): void => {
    if (!limit) return;
    const share = usage.workingSetBytes / limit.bytes;
    if (!binding || share > binding.workingSetBytes / binding.bytes) binding = { ...usage, ...limit };
  };
  for (const level of cgroupLevels(dir)) {
    const limit = levelLimit(files, dir.version, level);
    if (!limit) continue;
    // An ancestor holds at least what its descendant does, even where its own files are not readable.
    const usage = level === dir.dir ? own : levelUsage(files, dir.version, level);
    consider(usage && usage.workingSetBytes >= own.workingSetBytes ? usage : own, limit);
  }
  // v1: a limit above our mount point, which a cgroup namespace hides from the walk; only our usage is visible.
  const hierarchical = dir.version === 1 ? stat.get('hierarchical_memory_limit') : undefined;
  if (hierarchical !== undefined && hierarchical < V1_UNLIMITED_BYTES) {
    consider(own, { bytes: hierarchical, source: cgroupSource(1, `${dir.dir}/memory.stat hierarchical_memory_limit`) });
  }
  const chosen: Usage & Partial<Limit> = binding ?? own;
  return {
    version: dir.version,
    usageBytes: chosen.usageBytes,
    inactiveFileBytes: chosen.inactiveFileBytes,
    workingSetBytes: chosen.workingSetBytes,
    usageSource: chosen.usageSource,
    limitBytes: chosen.bytes,
    limitSource: chosen.source,
  };
}
