import { Rng } from './prng.js';
import { capacityRps, phaseBoundsMs, type Scenario } from './scenario.js';

/**
 * Open-loop arrivals: a Poisson process whose rate is load x capacity in each phase, switched off
 * during the off-periods of an on/off pattern (cycles start "on" at time 0). Each arrival consumes
 * one exponential draw, integrated against the piecewise-constant rate, so arrivals do not depend on
 * anything a controller does.
 */
export class ArrivalProcess {
  private readonly bounds: number[];
  private readonly ratePerMs: number[];
  /** On-period and whole cycle of an on/off pattern (ms); undefined when arrivals never pause. */
  private readonly onOff: { onMs: number; cycleMs: number } | undefined;
  private timeMs = 0;
  private phase = 0;

  constructor(scenario: Scenario, private readonly rng: Rng) {
    this.bounds = phaseBoundsMs(scenario);
    const mu = capacityRps(scenario) / 1000;
    this.ratePerMs = scenario.phases.map((p) => p.load * mu);
    const a = scenario.arrivals;
    this.onOff = a.kind === 'onOff' && a.offS > 0 ? { onMs: a.onS * 1000, cycleMs: (a.onS + a.offS) * 1000 } : undefined;
  }

  /**
   * The next arrival time, or undefined once the run is over. Each step covers one on-period, or
   * jumps over a silent phase or over the whole cycles the draw outlasts, so the work per arrival
   * does not grow with the number of cycles however short they are.
   */
  next(): number | undefined {
    let remaining = this.rng.exponential();
    while (this.phase < this.ratePerMs.length) {
      const end = this.bounds[this.phase + 1];
      const rate = this.ratePerMs[this.phase];
      if (this.timeMs >= end) {
        this.phase++;
        continue;
      }
      if (rate === 0) {
        this.timeMs = end;
        continue;
      }
      let untilMs = end;
      if (this.onOff) {
        const { onMs, cycleMs } = this.onOff;
        const start = Math.floor(this.timeMs / cycleMs) * cycleMs;
        const offAt = start + onMs;
        if (this.timeMs >= offAt) {
          // Silent until the next cycle (rounding can leave its start at or a hair before now: step
          // past it), then skip the whole cycles whose on-periods the draw outlasts.
          const nextOn = Math.max(start + cycleMs, this.timeMs + 1e-6);
          if (nextOn >= end) {
            this.timeMs = end;
            continue;
          }
          const perCycle = rate * onMs;
          const skip = Math.min(Math.max(0, Math.ceil(remaining / perCycle) - 1), Math.floor((end - nextOn) / cycleMs));
          remaining -= skip * perCycle;
          this.timeMs = nextOn + skip * cycleMs;
          continue;
        }
        untilMs = Math.min(end, offAt);
      }
      const mass = rate * (untilMs - this.timeMs);
      if (mass >= remaining) {
        this.timeMs += remaining / rate;
        return this.timeMs;
      }
      remaining -= mass;
      this.timeMs = untilMs;
    }
    return undefined;
  }
}
