/**
 * Keeps the worker-pool recommendation between adjustments: each update starts from the size
 * recommended last time, so advice moves step by step as the seed's auto-scaler does.
 */
import { advisePoolSize, startPoolSize, type PoolAdvice } from './pool.js';
import type { CpuReading } from './signals/types.js';

export interface PoolSettings {
  minThreads: number;
  maxThreads: number;
  targetCpu: number;
}

export class PoolAdvisor {
  private advice: PoolAdvice;
  private cores: number;

  constructor(
    private readonly settings: PoolSettings,
    cpu: CpuReading,
  ) {
    this.advice = startPoolSize({ availableCores: cpu.availableCores, minThreads: settings.minThreads, maxThreads: settings.maxThreads });
    this.cores = cpu.availableCores;
  }

  /**
   * The cores the last advice was sized for: reported beside it, rather than the cores now, which a
   * changed quota moves before the next adjustment resizes the advice (0.5 cores beside a cap of 8).
   */
  get sizedForCores(): number {
    return this.cores;
  }

  /** The last advice; its `upper` is the cap applied (RS3GW_MAX_THREADS cut to the CPU quota), which GetResources reports as max_threads. */
  get current(): PoolAdvice {
    return this.advice;
  }

  update(cpu: CpuReading, pendingWork: number): PoolAdvice {
    this.advice = advisePoolSize({
      currentSize: this.advice.size,
      minThreads: this.settings.minThreads,
      maxThreads: this.settings.maxThreads,
      targetCpu: this.settings.targetCpu,
      availableCores: cpu.availableCores,
      cpuUtilization: Math.max(0, cpu.utilization),
      pendingWork: Math.max(0, Math.round(pendingWork)),
    });
    this.cores = cpu.availableCores;
    return this.advice;
  }
}
