import type { AbsoluteGates, GateCheck, ScenarioResult } from './run.js';
import type { Stat } from './summary.js';

const signed = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;
const fmt = (v: number | null, digits: number): string => (v === null ? '—' : v.toFixed(digits));
const med = (s: Stat, digits: number): string => fmt(s.median, digits);
const percent = (s: Stat): string => (s.median === null ? '—' : (100 * s.median).toFixed(3));
const range = (s: Stat, digits: number): string => `${fmt(s.median, digits)} [${fmt(s.p5, digits)}–${fmt(s.p95, digits)}]`;
const difference = (d: NonNullable<GateCheck['differenceToBest']>): string =>
  `${signed(d.mean)} ± ${d.standardError.toFixed(4)} s.e.`;

const ABSOLUTE_GATES = ['goodput', 'p99AfterConvergence', 'excessRejection', 'recovery'] as const satisfies readonly (keyof AbsoluteGates)[];

/** The absolute gates a phase misses (recovery counts only where it applies). */
const missedGates = (g: GateCheck): (keyof AbsoluteGates)[] => ABSOLUTE_GATES.filter((key) => g[key] === false);

const COLUMNS = [
  'controller', 'goodput [p5–p95]', 'SLO gp', 'p50 ms', 'p99 ms', 'p999 ms', 'p99 after conv / unloaded',
  'reject', 'excess rej', 'timeout', 'conv s', 'recov s', 'limit CV', 'busy %',
];

/** What the tables say of a scenario they would otherwise leave out without a word. */
const NO_OVERLOAD =
  "no overload phase; the tables show overload phases only, the JSON output (without --table, --summary or --gates) has every phase's metrics.";

const overloadPhases = (result: ScenarioResult) => Object.values(result.controllers)[0].phases.filter((p) => p.overload);

/** Notes, below a table of overload phases, naming the scenarios that have none. */
function noOverloadNotes(results: ScenarioResult[]): string[] {
  const names = results.filter((r) => overloadPhases(r).length === 0).map((r) => `- \`${r.scenario}\`: ${NO_OVERLOAD}`);
  return names.length > 0 ? ['', ...names] : [];
}

/**
 * Markdown table of every overload phase (medians over seeds), then the gate verdicts; for a
 * scenario without an overload phase, its heading and a line saying so.
 */
export function renderTable(result: ScenarioResult): string {
  const lines: string[] = [];
  const names = Object.keys(result.controllers);
  const phases = overloadPhases(result);
  if (phases.length === 0) lines.push(`### ${result.scenario}`, '', `The scenario has ${NO_OVERLOAD}`, '');
  for (const phase of phases) {
    lines.push(
      `### ${result.scenario}: phase ${phase.index} (load ${phase.load}, ${phase.seconds} s, ideal rejection ${phase.idealRejection.toFixed(3)}, unloaded p99 ${med(phase.unloadedP99Ms, 1)} ms)`,
      '',
      `| ${COLUMNS.join(' | ')} |`,
      `|${COLUMNS.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    );
    for (const name of names) {
      const p = result.controllers[name].phases[phase.index];
      lines.push(
        `| ${name} | ${range(p.goodput, 3)} | ${med(p.sloGoodput, 3)} | ${med(p.p50Ms, 1)} | ${med(p.p99Ms, 1)} | ${med(p.p999Ms, 1)} | ${med(p.p99AfterConvergenceRatio, 2)} | ${med(p.rejectionRate, 3)} | ${med(p.excessRejection, 3)} | ${med(p.timeoutRate, 3)} | ${med(p.convergenceS, 1)} | ${med(p.recoveryS, 1)} | ${med(p.limitCv, 3)} | ${percent(p.busyShare)} |`,
      );
      if (p.byPriority) {
        const parts = Object.entries(p.byPriority).map(
          ([prio, s]) => `${prio} served ${med(s.servedRate, 3)} (rejected ${med(s.rejectionRate, 3)})`,
        );
        lines.push(`| ↳ ${name} by priority | ${parts.join('; ')} |${' |'.repeat(COLUMNS.length - 2)}`);
      }
    }
    lines.push('');
  }
  for (const g of result.gates ?? []) {
    const mark = (ok: boolean | null): string => (ok === null ? 'n/a' : ok ? 'pass' : 'FAIL');
    lines.push(
      `Gates, phase ${g.phase}: goodput >= 0.93 ${mark(g.goodput)}; p99 after convergence <= 2x unloaded ${mark(g.p99AfterConvergence)}; ` +
        `excess rejection <= 0.05 ${mark(g.excessRejection)}; recovery <= 5 s ${mark(g.recovery)}; ` +
        `goodput >= best reference (${g.bestReference} ${fmt(g.bestReferenceGoodput, 3)}) ${mark(g.matchesBestReference)}` +
        (g.differenceToBest ? ` (per-seed difference ${difference(g.differenceToBest)})` : ''),
    );
  }
  if (result.gates?.length) lines.push('');
  return lines.join('\n');
}

const SUMMARY_LABELS: Record<keyof AbsoluteGates, string> = {
  goodput: 'goodput',
  p99AfterConvergence: 'p99',
  excessRejection: 'excess rejection',
  recovery: 'recovery',
};

/**
 * One row per overload phase of every scenario: each controller's goodput and SLO goodput
 * (medians over seeds), the project's p99 after convergence against the unloaded p99, and its gates.
 */
export function renderSummary(results: ScenarioResult[]): string {
  const names = Object.keys(results[0]?.controllers ?? {});
  const lines = [
    `| scenario (overload phase) | ${names.join(' | ')} | project p99 / unloaded | project gates |`,
    `| --- |${names.map(() => ' ---: ').join('|')}| ---: | --- |`,
  ];
  for (const result of results) {
    const first = result.controllers[names[0]!]!;
    for (const phase of first.phases.filter((p) => p.overload)) {
      const cells = names.map((name) => {
        const p = result.controllers[name]!.phases[phase.index]!;
        return `${med(p.goodput, 3)} / ${med(p.sloGoodput, 3)}`;
      });
      const ours = result.controllers.project?.phases[phase.index];
      const gate = result.gates?.find((g) => g.phase === phase.index);
      const failed = gate ? missedGates(gate).map((key) => SUMMARY_LABELS[key]) : [];
      if (gate && !gate.matchesBestReference) failed.push(`below ${gate.bestReference} by ${signed(gate.differenceToBest?.mean ?? 0)}`);
      lines.push(
        `| ${result.scenario} (${phase.index}, ${phase.load}x) | ${cells.join(' | ')} | ${ours ? med(ours.p99AfterConvergenceRatio, 2) : '—'} | ${gate ? (failed.length ? failed.join('; ') : 'all pass') : '—'} |`,
      );
    }
  }
  lines.push(...noOverloadNotes(results));
  return lines.join('\n');
}

const GATE_LABELS: Record<keyof AbsoluteGates, string> = { ...SUMMARY_LABELS, goodput: 'goodput ≥ 0.93' };

/**
 * One row per overload phase with the project's figures against the best reference and the gates
 * it misses; a missed gate that no reference controller meets either is starred.
 */
export function renderGates(results: ScenarioResult[]): string {
  const lines = [
    '| scenario, phase (load) | project goodput | best reference | per-seed difference | p99 after conv. / unloaded | excess rej. | recovery s | busy % | gates not met |',
    '| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const result of results) {
    for (const g of result.gates ?? []) {
      const p = result.controllers.project!.phases[g.phase]!;
      const missed = missedGates(g).map((key) => `${GATE_LABELS[key]}${g.metByReference[key].length === 0 ? '*' : ''}`);
      if (!g.matchesBestReference) missed.push('vs best');
      lines.push(
        `| ${result.scenario}, ${g.phase} (${+p.load.toFixed(2)}x) | ${med(p.goodput, 3)} | ${g.bestReference} ${fmt(g.bestReferenceGoodput, 3)} | ${g.differenceToBest ? difference(g.differenceToBest) : '—'} | ${med(p.p99AfterConvergenceRatio, 2)} | ${med(p.excessRejection, 3)} | ${med(p.recoveryS, 1)} | ${percent(p.busyShare)} | ${missed.length ? missed.join(', ') : 'all pass'} |`,
      );
    }
  }
  lines.push('', '\\* no reference controller meets this gate either.', ...noOverloadNotes(results));
  return lines.join('\n');
}
