import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { phaseMetrics } from '../../../../bench/admission/engine/metrics.js';
import { parseScenario } from '../../../../bench/admission/engine/scenario.js';
import { simulate } from '../../../../bench/admission/engine/simulate.js';
import { createAdmissionController } from '../../../../src/core/resource/admission/factory.js';

test('under 5x overload critical traffic keeps its goodput while sheddable absorbs the cut', () => {
  const s = parseScenario({
    name: 'priorities',
    seeds: [4],
    workers: 16,
    service: { lognormal: { meanMs: 20, sigma: 0.5 } },
    contention: 0.05,
    phases: [{ seconds: 10, load: 0.5 }, { seconds: 30, load: 5 }],
    priorities: { critical: 0.1, normal: 0.3, sheddable: 0.6 },
  });
  const [calm, overload] = phaseMetrics(s, simulate(s, 4, (now) => createAdmissionController('adaptive', now)));
  for (const p of ['critical', 'normal', 'sheddable'] as const) {
    assert.ok(calm.byPriority[p].servedRate! > 0.99, `${p} is fully served while calm`);
  }
  const { critical, normal, sheddable } = overload.byPriority;
  // Critical asks for half the capacity: it should all be served.
  assert.ok(critical.servedRate! >= 0.98, `critical served ${critical.servedRate}`);
  assert.ok(sheddable.rejectionRate! >= 0.95, `sheddable rejected ${sheddable.rejectionRate}`);
  assert.ok(normal.servedRate! > sheddable.servedRate! + 0.1, 'normal keeps more than sheddable');
  assert.ok(overload.goodput >= 0.92, `total goodput ${overload.goodput}`);
});

test.run();
