import type { Priority } from './admission/types.js';
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

/**
 * How long the priority below must have been shed before the next one may be: the time PSI's avg10
 * (a 10 s average) takes to show most of what refusing the lower priority relieved.
 */
export const DEFAULT_SHED_ESCALATION_MS = 10_000;

/** The order in which priorities are shed. */
const SHED_ORDER: readonly Priority[] = ['sheddable', 'normal', 'critical'];

export interface ShedState {
  active: boolean;
  /** When shedding for this priority last started, if it is active. */
  sinceMs?: number;
  /** Requests of this priority refused by shedding since start-up. */
  shed: number;
}

/**
 * Decides, from the pressure snapshot, which priorities to refuse: sheddable first, then normal,
 * critical last. Each priority has its own hysteresis band so the decision does not flap. The order
 * holds in time, even when a signal jumps straight to its top: a priority is shed only once the one
 * below it has been shed for `escalationMs` and the level is still at this priority's entry, and it
 * stops as soon as the one below does. Critical work is shed only on the resource part of the
 * overload (`resourceOverload`), never on the service's own event loop, which refusing does not relieve.
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
    private readonly escalationMs: number = DEFAULT_SHED_ESCALATION_MS,
  ) {}

  /** The level the last snapshot mapped to: max(overload, memory pressure level if under pressure). */
  get level(): number {
    return this.currentLevel;
  }

  /** True while any priority is shed. */
  get shedding(): boolean {
    return this.state.sheddable.active;
  }

  update(snapshot: PressureSnapshot, nowMs: number): void {
    const finite = (v: number) => (Number.isFinite(v) ? v : 0);
    const memory = snapshot.memoryPressure ? this.memoryPressureLevel : 0;
    this.currentLevel = Math.max(finite(snapshot.overload), memory);
    const criticalLevel = Math.max(finite(snapshot.resourceOverload), memory);
    let below: ShedState | undefined;
    for (const p of SHED_ORDER) {
      const s = this.state[p];
      const t = this.thresholds[p];
      const level = p === 'critical' ? criticalLevel : this.currentLevel;
      const belowLongEnough = below === undefined || (below.active && nowMs - below.sinceMs! >= this.escalationMs);
      if (!s.active && level >= t.enter && belowLongEnough) {
        s.active = true;
        s.sinceMs = nowMs;
      } else if (s.active && (level < t.exit || (below !== undefined && !below.active))) {
        s.active = false;
        delete s.sinceMs;
      }
      below = s;
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
