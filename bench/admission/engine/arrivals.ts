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
  private timeMs = 0;

  constructor(
    private readonly scenario: Scenario,
    private readonly rng: Rng,
  ) {
    this.bounds = phaseBoundsMs(scenario);
    const mu = capacityRps(scenario) / 1000;
    this.ratePerMs = scenario.phases.map((p) => p.load * mu);
  }

  /** The next arrival time, or undefined once the run is over. */
  next(): number | undefined {
    let remaining = this.rng.exponential();
    const end = this.bounds[this.bounds.length - 1];
    while (this.timeMs < end) {
      const { rate, untilMs: boundary } = this.segmentAt(this.timeMs);
      // Rounding can leave a boundary at (or a hair before) the current time: step past it.
      const untilMs = boundary > this.timeMs ? boundary : this.timeMs + 1e-6;
      const mass = rate * (untilMs - this.timeMs);
      if (rate > 0 && mass >= remaining) {
        this.timeMs += remaining / rate;
        return this.timeMs;
      }
      remaining -= mass;
      this.timeMs = untilMs;
    }
    return undefined;
  }

  /** Rate in force at `t` and the time it next changes. */
  private segmentAt(t: number): { rate: number; untilMs: number } {
    let phase = 0;
    while (phase < this.scenario.phases.length - 1 && t >= this.bounds[phase + 1]) phase++;
    let untilMs = this.bounds[phase + 1];
    let rate = this.ratePerMs[phase];
    const a = this.scenario.arrivals;
    if (a.kind === 'onOff' && a.offS > 0) {
      const cycle = (a.onS + a.offS) * 1000;
      const start = Math.floor(t / cycle) * cycle;
      const offAt = start + a.onS * 1000;
      if (t < offAt) {
        untilMs = Math.min(untilMs, offAt);
      } else {
        rate = 0;
        untilMs = Math.min(untilMs, start + cycle);
      }
    }
    return { rate, untilMs };
  }
}
