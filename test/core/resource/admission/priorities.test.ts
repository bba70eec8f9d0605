import { readFileSync } from 'node:fs';
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

test('each priority meets its own cap, and the README gives the figures: sheddable 15 % short of the limit, critical 50 % beyond it', () => {
  const inflightAtRefusal = (priority: 'critical' | 'normal' | 'sheddable') => {
    const c = createAdmissionController('adaptive', 0);
    while (c.tryAcquire(0, priority));
    return { inflight: c.inflight, limit: c.limit };
  };
  const limit = 20;
  assert.equal(inflightAtRefusal('normal'), { inflight: limit, limit }, 'the initial limit, as normal work meets it');
  const critical = inflightAtRefusal('critical').inflight;
  const sheddable = inflightAtRefusal('sheddable').inflight;
  assert.equal([critical, sheddable], [30, 17]);
  const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
  assert.ok(readme.includes(`critical work may go ${(100 * (critical - limit)) / limit} % beyond it`), 'README: how far critical work goes beyond the limit');
  assert.ok(readme.includes(`sheddable work is refused while ${Math.round((100 * (limit - sheddable)) / limit)} % of the limit is still free`), 'README: the reserve sheddable work leaves');
});

test.run();
