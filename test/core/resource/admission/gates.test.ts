import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONTROLLERS } from '../../../../bench/admission/controllers/registry.js';
import { runScenario } from '../../../../bench/admission/engine/run.js';
import { parseScenario } from '../../../../bench/admission/engine/scenario.js';
import { renderGates } from '../../../../bench/admission/engine/table.js';

/** Four workers at 3x whose service slows by 30 % per request in flight: 0.93 is out of anyone's reach. */
const heavyContention = parseScenario({
  name: 'heavy-contention',
  seeds: [1, 2],
  workers: 4,
  service: { lognormal: { meanMs: 10, sigma: 0.5 } },
  contention: 0.3,
  phases: [
    { seconds: 3, load: 0.5 },
    { seconds: 6, load: 3 },
    { seconds: 6, load: 0.5 },
  ],
});

test('gates are checked on every overload phase, with the references that meet each one', () => {
  const result = runScenario(heavyContention, { project: CONTROLLERS.project, none: CONTROLLERS.none });
  assert.is(result.gates?.length, 1);
  const gate = result.gates![0];
  assert.is(gate.phase, 1);
  assert.is(gate.goodput, false);
  assert.equal(gate.metByReference.goodput, [], 'admitting everything collapses under contention');
  assert.equal(gate.metByReference.excessRejection, ['none'], 'refusing nothing is never excess rejection');
  assert.is(gate.bestReference, 'none');
  assert.is(gate.matchesBestReference, true);
  assert.ok(gate.differenceToBest!.mean > 0.2, 'the project keeps most of the goodput that admitting all loses');
});

test('--gates rows star a missed gate that no reference meets either', () => {
  const table = renderGates([runScenario(heavyContention, { project: CONTROLLERS.project, none: CONTROLLERS.none })]);
  const row = table.split('\n').find((l) => l.startsWith('| heavy-contention, 1 (3x) |'));
  assert.ok(row, table);
  assert.match(row!, /\| none \d\.\d{3} \|/);
  assert.match(row!, /goodput ≥ 0\.93\*/);
  assert.not.match(row!, /vs best/);
  assert.match(table, /\\\* no reference controller meets this gate either\./);
});

test.run();
