import { invalidArgument } from '../errors.js';

/**
 * Threads per available core worth having at most: pool workers mostly wait on storage I/O, so a few
 * per core keep the cores busy, and beyond that extra threads only queue for CPU under the quota.
 */
const THREADS_PER_CORE = 4;
const DEFAULT_TARGET_CPU = 0.75;
/**
 * CPU within this distance of the target holds the size, so measurement noise does not flap it; a
 * target below twice this gets half the target instead, so the band never reaches 0.
 */
const DEFAULT_TOLERANCE = 0.05;

export interface PoolAdviceInput {
  /** Threads in the pool now. */
  currentSize: number;
  /** RS3GW_MIN_THREADS, default 1. */
  minThreads?: number;
  /** RS3GW_MAX_THREADS, default THREADS_PER_CORE x availableCores (rounded up, at least minThreads). */
  maxThreads?: number;
  /** RS3GW_TARGET_CPU, (0, 1] of the available cores, default 0.75. */
  targetCpu?: number;
  /** Default: DEFAULT_TOLERANCE, or half the target when that is less. */
  tolerance?: number;
  /** Cores this process may use: the cgroup quota where there is one (CpuReading.availableCores). */
  availableCores: number;
  /** CPU use as a fraction of availableCores (CpuReading.utilization); may exceed 1 briefly. */
  cpuUtilization: number;
  /** Tasks waiting for a worker. */
  pendingWork: number;
}

export interface PoolAdvice {
  size: number;
  /** One line saying why, with the figures that decided it. */
  reason: string;
  /** The range the size is kept in: [minThreads, lower of maxThreads and the useful cap]. */
  lower: number;
  upper: number;
}

function integer(field: string, value: number | undefined, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalidArgument(field, `must be an integer of at least ${min}`);
  }
  return value;
}

function finite(field: string, value: number, check: (v: number) => boolean, rule: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) throw invalidArgument(field, `must be ${rule}`);
  return value;
}

const pct = (fraction: number): string => `${Math.round(fraction * 100)}%`;

interface PoolBounds {
  cores: number;
  min: number;
  /** The cap applied: maxThreads cut to THREADS_PER_CORE x cores, but never below minThreads. */
  upper: number;
  /** What decided `upper`, for reasons: `max 8`, `cap 6 = 4 x 1.5 cores`, `minThreads 4 over cap 2 = 4 x 0.5 cores`. */
  capNote: string;
}

function poolBounds(input: Pick<PoolAdviceInput, 'availableCores' | 'minThreads' | 'maxThreads'>): PoolBounds {
  const cores = finite('availableCores', input.availableCores, (v) => v > 0, 'a positive number');
  const min = integer('minThreads', input.minThreads ?? 1, 1);
  const usefulCap = Math.max(1, Math.ceil(cores * THREADS_PER_CORE));
  const max = integer('maxThreads', input.maxThreads ?? Math.max(min, usefulCap), 1);
  if (min > max) throw invalidArgument('minThreads', `must not exceed maxThreads (${min} > ${max})`);
  // The configured minimum wins over the useful cap: it is an explicit operator decision.
  const upper = Math.max(min, Math.min(max, usefulCap));
  const cap = `cap ${usefulCap} = ${THREADS_PER_CORE} x ${cores} cores`;
  const capNote = usefulCap >= max ? `max ${upper}` : upper === usefulCap ? cap : `minThreads ${upper} over ${cap}`;
  return { cores, min, upper, capNote };
}

/**
 * The size a pool starts at, before any measurement of its load: one thread per available core
 * (rounded), kept in the same [minThreads, cap] as advisePoolSize keeps its advice, with the reason
 * saying which of the three decided it.
 */
export function startPoolSize(input: Pick<PoolAdviceInput, 'availableCores' | 'minThreads' | 'maxThreads'>): PoolAdvice {
  const { cores, min, upper, capNote } = poolBounds(input);
  const perCore = Math.round(cores);
  const advice = (size: number, reason: string): PoolAdvice => ({ size, reason: `start at ${size}: ${reason}`, lower: min, upper });
  if (perCore < min) return advice(min, `minThreads (${cores} available cores)`);
  if (perCore > upper) return advice(upper, `${capNote} (${cores} available cores)`);
  return advice(perCore, `one per available core within [${min}, ${capNote}]`);
}

/**
 * Recommends a worker-pool size. Grows when CPU is below target and work is waiting, by no more than
 * the work waiting, the CPU headroom (size x target / cpu) or doubling; shrinks when CPU is above
 * target in proportion to the excess. The result stays within [min, max], and max is cut to
 * THREADS_PER_CORE x the cores the quota gives, since more runnable threads than that only contend.
 */
export function advisePoolSize(input: PoolAdviceInput): PoolAdvice {
  const { min, upper, capNote } = poolBounds(input);
  const current = integer('currentSize', input.currentSize, 0);
  const target = finite('targetCpu', input.targetCpu ?? DEFAULT_TARGET_CPU, (v) => v > 0 && v <= 1, 'a number in (0, 1]');
  const tolerance = finite('tolerance', input.tolerance ?? Math.min(DEFAULT_TOLERANCE, target / 2), (v) => v >= 0 && v < target, `a number from 0 to below targetCpu`);
  const cpu = finite('cpuUtilization', input.cpuUtilization, (v) => v >= 0, 'a non-negative number');
  const pending = integer('pendingWork', input.pendingWork, 0);

  const advice = (size: number, reason: string): PoolAdvice => ({ size, reason, lower: min, upper });
  const load = `cpu ${pct(cpu)} vs target ${pct(target)}`;

  if (current < min) return advice(min, `raise ${current} -> ${min}: below minThreads`);
  if (current > upper) return advice(upper, `lower ${current} -> ${upper}: above ${capNote}`);

  if (cpu > target + tolerance) {
    const proportional = Math.floor((current * target) / cpu);
    const size = Math.max(min, Math.min(current - 1, proportional));
    return size < current
      ? advice(size, `shrink ${current} -> ${size}: ${load}`)
      : advice(current, `hold ${current}: ${load} but already at minThreads ${min}`);
  }

  if (cpu < target - tolerance && pending > 0) {
    const headroom = cpu > 0 ? Math.floor((current * target) / cpu) : Number.POSITIVE_INFINITY;
    const step = Math.max(current + 1, Math.min(current + pending, headroom, Math.max(1, current * 2)));
    const size = Math.min(upper, step);
    return size > current
      ? advice(size, `grow ${current} -> ${size}: ${load} with ${pending} pending (${capNote})`)
      : advice(current, `hold ${current}: ${load} with ${pending} pending, but at ${capNote}`);
  }

  const why = pending === 0 && cpu < target - tolerance ? `${load}, no work pending` : `${load} (within ${pct(tolerance)})`;
  return advice(current, `hold ${current}: ${why}`);
}
