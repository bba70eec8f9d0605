import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ObservabilityError } from '../../src/core/errors.js';
import { CONTROLLER_NAMES, CONTROLLERS } from './controllers/registry.js';
import { runScenario, type ScenarioResult } from './engine/run.js';
import { loadScenario, type Scenario } from './engine/scenario.js';
import type { ControllerFactory } from './engine/simulate.js';
import { renderGates, renderSummary, renderTable } from './engine/table.js';
import { sweepScenarios } from './sweep.js';

const USAGE = `usage: npm run bench:admission -- [--scenario FILE]... [--sweep N [--sweep-seed S] [--sweep-bursts] [--sweep-runs R]]
         [--controllers a,b,...] [--table | --summary | --gates]
  With no --scenario and no --sweep, runs every public scenario in bench/admission/scenarios/.
  --sweep N adds N random scenarios drawn by seed S (default 1), see bench/admission/sweep.ts;
  --sweep-bursts gives the same scenarios on/off arrivals; --sweep-runs R runs each with seeds 1 to R
  (default 5).
  Controllers: ${CONTROLLER_NAMES.join(', ')} (default: all).
  Prints one JSON document (an array when several scenarios run), markdown tables with --table,
  one table of every scenario's goodput / SLO goodput by controller with --summary, or one row
  per overload phase with the project's gates against the best reference with --gates.`;

const here = dirname(fileURLToPath(import.meta.url));

function publicScenarioFiles(): string[] {
  const dir = join(here, 'scenarios');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

function main(argv: string[]): void {
  const files: string[] = [];
  let names = CONTROLLER_NAMES;
  let table = false;
  let summary = false;
  let gates = false;
  let sweepCount = 0;
  let sweepSeed = 1;
  let sweepBursts = false;
  let sweepRuns: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--scenario') files.push(file(argv[++i]));
    else if (arg === '--controllers') names = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg === '--table') table = true;
    else if (arg === '--summary') summary = true;
    else if (arg === '--gates') gates = true;
    else if (arg === '--sweep') sweepCount = count(argv[++i], '--sweep', 1000);
    else if (arg === '--sweep-seed') sweepSeed = count(argv[++i], '--sweep-seed', 2 ** 32 - 1);
    else if (arg === '--sweep-bursts') sweepBursts = true;
    else if (arg === '--sweep-runs') sweepRuns = count(argv[++i], '--sweep-runs', 1000);
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      return;
    } else throw new Error(`unknown argument '${arg}'\n${USAGE}`);
  }
  if (Number(table) + Number(summary) + Number(gates) > 1) {
    throw new Error(`--table, --summary and --gates are alternatives: give at most one\n${USAGE}`);
  }
  const unknown = names.filter((n) => !(n in CONTROLLERS));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`unknown controllers: ${unknown.join(', ') || '(none given)'}\n${USAGE}`);
  }
  const chosen: Record<string, ControllerFactory> = {};
  for (const n of names) chosen[n] = CONTROLLERS[n];
  const scenarios: Scenario[] = (files.length > 0 || sweepCount > 0 ? files : publicScenarioFiles()).map(loadScenario);
  scenarios.push(...sweepScenarios(sweepCount, sweepSeed, { bursts: sweepBursts, runs: sweepRuns }));
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const result = runScenario(scenario, chosen);
    if (table) console.log(renderTable(result));
    results.push(result);
  }
  if (summary) console.log(renderSummary(results));
  else if (gates) {
    console.log(renderGates(results));
    const described = scenarios.filter((s) => s.description !== undefined);
    if (described.length > 0) console.log(['', ...described.map((s) => `- \`${s.name}\`: ${s.description}`)].join('\n'));
  } else if (!table) console.log(JSON.stringify(results.length === 1 ? results[0] : results, null, 2));
}

/** The value of --scenario; a missing one (or the next option in its place) is a usage error. */
function file(value: string | undefined): string {
  if (value === undefined || value === '' || value.startsWith('--')) throw new Error(`--scenario needs a FILE\n${USAGE}`);
  return value;
}

function count(value: string | undefined, flag: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${flag} takes a whole number from 1 to ${max}\n${USAGE}`);
  return n;
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof ObservabilityError ? `invalid scenario: ${err.message}` : (err as Error).message);
  process.exitCode = 1;
}
