import { PRIORITIES, type Priority } from './admission/types.js';
import type { PressureSnapshot } from './signals/types.js';

/** Shedding starts for a priority when the pressure level reaches `enter`, and stops below `exit`. */
export interface ShedThreshold {
  enter: number;
  exit: number;
}

export type ShedThresholds = Record<Priority, ShedThreshold>;

export const DEFAULT_SHED_THRESHOLDS: ShedThresholds = {
  sheddable: { enter: 0.5, exit: 0.35 },
  normal: { enter: 0.8, exit: 0.65 },
  critical: { enter: 0.97, exit: 0.85 },
};

/** Pressure level that memory pressure alone stands for: enough to shed sheddable traffic. */
export const DEFAULT_MEMORY_PRESSURE_LEVEL = 0.6;

export interface ShedState {
  active: boolean;
  /** When shedding for this priority last started, if it is active. */
  sinceMs?: number;
  /** Requests of this priority refused by shedding since start-up. */
  shed: number;
}

/**
 * Decides, from the pressure snapshot, which priorities to refuse: sheddable first, then normal,
 * critical last. Each priority has its own hysteresis band so the decision does not flap.
 */
export class LoadShedder {
  private readonly state: Record<Priority, ShedState> = {
    critical: { active: false, shed: 0 },
    normal: { active: false, shed: 0 },
    sheddable: { active: false, shed: 0 },
  };
  private currentLevel = 0;

  constructor(
    private readonly thresholds: ShedThresholds,
    private readonly memoryPressureLevel: number,
  ) {}

  /** The level the last snapshot mapped to: max(overload, memory pressure level if under pressure). */
  get level(): number {
    return this.currentLevel;
  }

  update(snapshot: PressureSnapshot, nowMs: number): void {
    const overload = Number.isFinite(snapshot.overload) ? snapshot.overload : 0;
    this.currentLevel = Math.max(overload, snapshot.memoryPressure ? this.memoryPressureLevel : 0);
    for (const p of PRIORITIES) {
      const s = this.state[p];
      const t = this.thresholds[p];
      if (!s.active && this.currentLevel >= t.enter) {
        s.active = true;
        s.sinceMs = nowMs;
      } else if (s.active && this.currentLevel < t.exit) {
        s.active = false;
        delete s.sinceMs;
      }
    }
  }

  /** True if requests of this priority are refused now; counts the refusal. */
  sheds(priority: Priority): boolean {
    const s = this.state[priority];
    if (s.active) s.shed += 1;
    return s.active;
  }

  states(): Record<Priority, ShedState> {
    return {
      critical: { ...this.state.critical },
      normal: { ...this.state.normal },
      sheddable: { ...this.state.sheddable },
    };
  }
}
