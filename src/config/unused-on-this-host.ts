/**
 * Load-shedding thresholds given explicitly that this host leaves unread, one start-up line each,
 * as for the seed controller's settings: a threshold that silently does nothing misleads.
 */
import type { PsiReading } from '../core/resource/signals/types.js';
import { SETTINGS, type SettingKey } from './settings.js';

export interface PressureHost {
  /** PSI as the pressure monitor read it at start-up; absent where the kernel reports none. */
  psi?: PsiReading;
  /** Whether a CPU quota's throttled periods are counted: RS3GW_PSI_THRESHOLD applies to them too. */
  cpuQuotaThrottling: boolean;
}

export function thresholdsUnusedOnThisHost(explicit: ReadonlySet<SettingKey>, host: PressureHost): string[] {
  const lines: string[] = [];
  const psi = host.psi?.notActedOn ? undefined : host.psi;
  if (explicit.has('loadSheddingThreshold') && psi?.cpuSomeAvg10 !== undefined) {
    lines.push(`${SETTINGS.loadSheddingThreshold.env} ignored: the kernel reports PSI for CPU (${psi.source}), so the time tasks wait for CPU (${SETTINGS.psiThreshold.env}) drives load shedding, not busy CPU`);
  }
  const waitingRead = psi?.cpuSomeAvg10 !== undefined || psi?.ioSomeAvg10 !== undefined || host.cpuQuotaThrottling;
  if (explicit.has('psiThreshold') && !waitingRead) {
    const why = host.psi?.notActedOn ? `the only PSI is not this process's own (${host.psi.source})` : 'the kernel reports no PSI for CPU or I/O';
    lines.push(`${SETTINGS.psiThreshold.env} ignored: ${why}, and there is no CPU quota whose throttled periods it would count, so busy CPU (${SETTINGS.loadSheddingThreshold.env}) drives load shedding, not the time tasks wait`);
  }
  return lines;
}
