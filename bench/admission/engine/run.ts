import { phaseMetrics, type PhaseMetrics } from './metrics.js';
import type { Scenario } from './scenario.js';
import { simulate, type ControllerFactory } from './simulate.js';
import { summarisePhases, type PhaseSummary } from './summary.js';

/** Thresholds the project's controller must meet in every overload phase (spec "Gates"). */
const GATES = {
  minGoodput: 0.93,
  maxP99Ratio: 2,
  maxExcessRejection: 0.05,
  maxRecoveryS: 5,
};

/** The spec's absolute gates for one overload phase. */
export interface AbsoluteGates {
  goodput: boolean;
  p99AfterConvergence: boolean;
  excessRejection: boolean;
  /** Null when recovery is not defined: the overload runs into another overload or the end. */
  recovery: boolean | null;
}

export interface GateCheck extends AbsoluteGates {
  phase: number;
  /** Per absolute gate, the reference controllers that meet it: a gate none meets may not be reachable. */
  metByReference: Record<keyof AbsoluteGates, string[]>;
  /** Median goodput at least the best reference controller's median (rounded to 3 decimals). */
  matchesBestReference: boolean;
  bestReference: string;
  bestReferenceGoodput: number | null;
  /**
   * Mean per-seed goodput difference (project - best reference) and its standard error: each
   * controller serves a different subset of requests, so goodputs near 1 differ by sampling noise.
   */
  differenceToBest: { mean: number; standardError: number } | null;
}

export interface ScenarioResult {
  scenario: string;
  controllers: Record<string, { phases: PhaseSummary[] }>;
  gates?: GateCheck[];
}

/** Runs every seed of a scenario for each named controller and summarises over seeds. */
export function runScenario(scenario: Scenario, controllers: Record<string, ControllerFactory>): ScenarioResult {
  const result: ScenarioResult = { scenario: scenario.name, controllers: {} };
  for (const [name, factory] of Object.entries(controllers)) {
    const runs: PhaseMetrics[][] = scenario.seeds.map((seed) => phaseMetrics(scenario, simulate(scenario, seed, factory)));
    result.controllers[name] = { phases: summarisePhases(runs, scenario.priorities) };
  }
  if (result.controllers.project) result.gates = checkGates(result);
  return result;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

function recoveryApplies(phases: PhaseSummary[], index: number): boolean {
  return index + 1 < phases.length && !phases[index + 1].overload;
}

function pairedDifference(ours: number[], theirs: number[]): { mean: number; standardError: number } {
  const d = ours.map((x, i) => x - theirs[i]);
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const variance = d.length > 1 ? d.reduce((a, b) => a + (b - mean) ** 2, 0) / (d.length - 1) : 0;
  return { mean, standardError: Math.sqrt(variance / d.length) };
}

function absoluteGates(phases: PhaseSummary[], index: number): AbsoluteGates {
  const p = phases[index];
  const goodput = p.goodput.median ?? 0;
  return {
    goodput: goodput >= GATES.minGoodput,
    p99AfterConvergence: p.p99AfterConvergenceRatio.median !== null && p.p99AfterConvergenceRatio.median <= GATES.maxP99Ratio,
    excessRejection: p.excessRejection.median !== null && p.excessRejection.median <= GATES.maxExcessRejection,
    recovery: recoveryApplies(phases, index) ? p.recoveryS.median !== null && p.recoveryS.median <= GATES.maxRecoveryS : null,
  };
}

function checkGates(result: ScenarioResult): GateCheck[] {
  const project = result.controllers.project.phases;
  const references = Object.entries(result.controllers).filter(([name]) => name !== 'project');
  return project
    .filter((p) => p.overload)
    .map((p) => {
      let bestReference = '';
      let bestReferenceGoodput: number | null = null;
      for (const [name, c] of references) {
        const g = c.phases[p.index].goodput.median;
        if (g !== null && (bestReferenceGoodput === null || g > bestReferenceGoodput)) {
          bestReference = name;
          bestReferenceGoodput = g;
        }
      }
      const goodput = p.goodput.median ?? 0;
      const best = bestReference ? result.controllers[bestReference].phases[p.index].goodputBySeed : undefined;
      const metByReference: GateCheck['metByReference'] = { goodput: [], p99AfterConvergence: [], excessRejection: [], recovery: [] };
      for (const [name, c] of references) {
        const gates = absoluteGates(c.phases, p.index);
        for (const key of Object.keys(metByReference) as (keyof AbsoluteGates)[]) {
          if (gates[key]) metByReference[key].push(name);
        }
      }
      return {
        phase: p.index,
        ...absoluteGates(project, p.index),
        metByReference,
        matchesBestReference: bestReferenceGoodput === null || round3(goodput) >= round3(bestReferenceGoodput),
        bestReference,
        bestReferenceGoodput,
        differenceToBest: best ? pairedDifference(p.goodputBySeed, best) : null,
      };
    });
}
