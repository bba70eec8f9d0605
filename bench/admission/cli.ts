import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ObservabilityError } from '../../src/core/errors.js';
import { CONTROLLER_NAMES, CONTROLLERS } from './controllers/registry.js';
import { runScenario, type ScenarioResult } from './engine/run.js';
import { loadScenario } from './engine/scenario.js';
import type { ControllerFactory } from './engine/simulate.js';
import { renderSummary, renderTable } from './engine/table.js';

const USAGE = `usage: npm run bench:admission -- [--scenario FILE]... [--controllers a,b,...] [--table | --summary]
  With no --scenario, runs every public scenario in bench/admission/scenarios/.
  Controllers: ${CONTROLLER_NAMES.join(', ')} (default: all).
  Prints one JSON document (an array when several scenarios run), markdown tables with --table,
  or one table of every scenario's goodput / SLO goodput by controller with --summary.`;

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
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--scenario') files.push(argv[++i] ?? '');
    else if (arg === '--controllers') names = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg === '--table') table = true;
    else if (arg === '--summary') summary = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      return;
    } else throw new Error(`unknown argument '${arg}'\n${USAGE}`);
  }
  const unknown = names.filter((n) => !(n in CONTROLLERS));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`unknown controllers: ${unknown.join(', ') || '(none given)'}\n${USAGE}`);
  }
  const chosen: Record<string, ControllerFactory> = {};
  for (const n of names) chosen[n] = CONTROLLERS[n];
  const results: ScenarioResult[] = [];
  for (const file of files.length > 0 ? files : publicScenarioFiles()) {
    const result = runScenario(loadScenario(file), chosen);
    if (table) console.log(renderTable(result));
    results.push(result);
  }
  if (summary) console.log(renderSummary(results));
  else if (!table) console.log(JSON.stringify(results.length === 1 ? results[0] : results, null, 2));
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof ObservabilityError ? `invalid scenario: ${err.message}` : (err as Error).message);
  process.exitCode = 1;
}
