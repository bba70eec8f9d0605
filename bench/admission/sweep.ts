import { Rng } from './engine/prng.js';
import { capacityRps, parseScenario, type Scenario } from './engine/scenario.js';

/**
 * Random scenarios in the spec's format, for judging the controller beyond the files we wrote:
 * the unpublished scenarios it is judged on vary the mix, the bursts, the contention and the
 * seeds, so the sweep draws each of those from a wide range. Deterministic for a sweep seed. With
 * `bursts`, the same scenarios get on/off arrivals (drawn from a stream of their own, so that
 * everything else stays as drawn).
 */

const WORKERS = [2, 8, 16, 32, 128];
const MEAN_MS = [5, 20, 100];
const SIGMAS = [0.25, 0.5, 1];
const BIMODAL_P = [0.8, 0.95];
const BIMODAL_FAST_MS = [2, 10];
const BIMODAL_SLOW_FACTOR = [10, 30];
const CONTENTION = [0, 0, 0.02, 0.05, 0.1];
const LOADS = [1.5, 2, 5, 10, 20];
const DEADLINES_MS = [500, 1000, 2000];
const MULTIPLIERS = [0.5, 2];
/** Share of scenarios with bimodal service, and with a capacity event in the middle of the overload. */
const BIMODAL_SHARE = 0.3;
const CAPACITY_EVENT_SHARE = 0.25;
const CALM_S = 20;
const OVERLOAD_S = 40;
/** Arrivals per seed in the overload phase, at most: shorter phases for large, fast servers. */
const MAX_OVERLOAD_ARRIVALS = 150_000;
/** Seeds (runs) per scenario unless asked for more: enough for a median, quick to run. */
const DEFAULT_RUNS = 5;
const BURST_ON_S = [0.25, 0.5, 1, 2, 3];
const BURST_OFF_S = [0.25, 0.5, 1, 2, 4];
/** The random stream of the on/off draws (the main draws use stream 0). */
const BURST_STREAM = 1;

interface SweepOptions {
  /** On/off arrivals instead of Poisson. */
  bursts?: boolean;
  /**
   * Seeds 1 to `runs` per scenario (default 5): more runs tell smaller changes apart, as the
   * per-seed differences of two controllers then have a smaller standard error.
   */
  runs?: number;
}

/**
 * `count` scenarios (`sweep-<seed>-<index>`, or `bursts-<seed>-<index>` with on/off arrivals),
 * each a calm phase, an overload and a calm phase.
 */
export function sweepScenarios(count: number, seed: number, options: SweepOptions = {}): Scenario[] {
  const rng = new Rng(seed);
  const burstRng = new Rng(seed, BURST_STREAM);
  const pick = <T>(values: readonly T[], from = rng): T => values[Math.floor(from.next() * values.length)]!;
  const scenarios: Scenario[] = [];
  for (let i = 0; i < count; i++) {
    const workers = pick(WORKERS);
    let service: unknown;
    let meanMs: number;
    if (rng.next() < BIMODAL_SHARE) {
      const p = pick(BIMODAL_P);
      const fastMs = pick(BIMODAL_FAST_MS);
      const slowMs = fastMs * pick(BIMODAL_SLOW_FACTOR);
      service = { bimodal: { p, fastMs, slowMs } };
      meanMs = p * fastMs + (1 - p) * slowMs;
    } else {
      meanMs = pick(MEAN_MS);
      service = { lognormal: { meanMs, sigma: pick(SIGMAS) } };
    }
    const contention = pick(CONTENTION);
    const load = pick(LOADS);
    // A deadline shorter than a few service times would make every controller time out.
    const deadlineMs = Math.max(pick(DEADLINES_MS), 20 * meanMs);
    const overloadRps = (load * workers * 1000) / meanMs;
    const seconds = Math.max(10, Math.min(OVERLOAD_S, 10 * Math.floor(MAX_OVERLOAD_ARRIVALS / overloadRps / 10)));
    const event = rng.next() < CAPACITY_EVENT_SHARE;
    const multiplier = pick(MULTIPLIERS);
    const capacityEvents = event ? [{ atS: CALM_S + seconds / 2, seconds: 10, serviceMultiplier: multiplier }] : [];
    const arrivals = options.bursts ? { onOff: { onS: pick(BURST_ON_S, burstRng), offS: pick(BURST_OFF_S, burstRng) } } : 'poisson';
    const scenario = parseScenario({
      name: `${options.bursts ? 'bursts' : 'sweep'}-${seed}-${String(i).padStart(2, '0')}`,
      seeds: Array.from({ length: options.runs ?? DEFAULT_RUNS }, (_, k) => k + 1),
      workers,
      service,
      contention,
      deadlineMs,
      arrivals,
      phases: [
        { seconds: CALM_S, load: 0.5 },
        { seconds, load },
        { seconds: CALM_S, load: 0.5 },
      ],
      capacityEvents,
    });
    scenarios.push({ ...scenario, description: describe(scenario) });
  }
  return scenarios;
}

/** One line with what a sweep scenario is made of. */
function describe(s: Scenario): string {
  const service =
    s.service.kind === 'lognormal'
      ? `lognormal ${s.service.meanMs} ms σ ${s.service.sigma}`
      : `bimodal ${s.service.fastMs}/${s.service.slowMs} ms p ${s.service.p}`;
  const overload = s.phases[1]!;
  const event = s.capacityEvents[0];
  const arrivals = s.arrivals.kind === 'onOff' ? [`on/off ${s.arrivals.onS}/${s.arrivals.offS} s`] : [];
  return [
    `${s.workers} workers`,
    service,
    `contention ${s.contention}`,
    `deadline ${Math.round(s.deadlineMs)} ms`,
    `${overload.load}x for ${overload.seconds} s (${Math.round(capacityRps(s))} rps capacity)`,
    ...arrivals,
    ...(event ? [`service x${event.serviceMultiplier} from ${event.atS} s for ${event.seconds} s`] : []),
  ].join(', ');
}
