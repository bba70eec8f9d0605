import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { capacityRps, meanServiceMs } from '../../../../bench/admission/engine/scenario.js';
import { sweepScenarios } from '../../../../bench/admission/sweep.js';

test('a sweep seed always draws the same scenarios, another seed others', () => {
  assert.equal(sweepScenarios(20, 7), sweepScenarios(20, 7));
  assert.not.equal(sweepScenarios(20, 7), sweepScenarios(20, 8));
  assert.equal(
    sweepScenarios(3, 7).map((s) => s.name),
    ['sweep-7-00', 'sweep-7-01', 'sweep-7-02'],
  );
});

test('each scenario runs on seeds 1 to 5, or to as many runs as asked, and is otherwise the same', () => {
  const five = sweepScenarios(10, 3, { bursts: true });
  const fifteen = sweepScenarios(10, 3, { bursts: true, runs: 15 });
  five.forEach(({ seeds, ...rest }, i) => {
    const { seeds: moreSeeds, ...moreRest } = fifteen[i]!;
    assert.equal(seeds, [1, 2, 3, 4, 5]);
    assert.equal(moreSeeds, Array.from({ length: 15 }, (_, k) => k + 1));
    assert.equal(moreRest, rest);
  });
});

test('every scenario is a calm phase, an overload and a calm phase, with a described make-up', () => {
  for (const s of sweepScenarios(200, 1)) {
    assert.is(s.phases.length, 3);
    assert.is(s.phases[0].load, 0.5);
    assert.ok(s.phases[1].load > 1, `${s.name} overloads`);
    assert.is(s.phases[2].load, 0.5);
    assert.ok(s.deadlineMs >= 20 * meanServiceMs(s.service), `${s.name}: a deadline every controller can meet`);
    // Work stays bounded: at most 150 000 overload arrivals per seed, or the shortest overload of 10 s.
    const arrivals = s.phases[1].load * capacityRps(s) * s.phases[1].seconds;
    assert.ok(arrivals <= 150_000 || s.phases[1].seconds === 10, `${s.name}: ${arrivals} arrivals`);
    assert.match(s.description ?? '', new RegExp(`^${s.workers} workers, `));
  }
});

test('the sweep covers the mixes, contention levels, loads and capacity changes it promises', () => {
  const all = sweepScenarios(200, 1);
  assert.ok(all.some((s) => s.service.kind === 'bimodal'));
  assert.ok(all.some((s) => s.service.kind === 'lognormal'));
  assert.ok(all.some((s) => s.contention === 0) && all.some((s) => s.contention >= 0.1));
  assert.equal([...new Set(all.map((s) => s.workers))].sort((a, b) => a - b), [2, 8, 16, 32, 128]);
  assert.equal([...new Set(all.map((s) => s.phases[1].load))].sort((a, b) => a - b), [1.5, 2, 5, 10, 20]);
  const withEvent = all.filter((s) => s.capacityEvents.length > 0);
  assert.ok(withEvent.length > 20 && withEvent.length < 100, `${withEvent.length} of 200 change capacity`);
  for (const s of withEvent) {
    const overloadStartS = s.phases[0].seconds;
    assert.ok(s.capacityEvents[0].atS > overloadStartS, 'the change comes during the overload');
  }
});

test('with bursts, the same scenarios get on/off arrivals of every drawn length', () => {
  const plain = sweepScenarios(100, 1);
  const bursts = sweepScenarios(100, 1, { bursts: true });
  const on = new Set<number>();
  const off = new Set<number>();
  bursts.forEach((s, i) => {
    const { name, arrivals, description, ...rest } = s;
    const { name: plainName, arrivals: plainArrivals, description: plainDescription, ...plainRest } = plain[i]!;
    assert.equal(rest, plainRest, `${name} is ${plainName} but for its arrivals`);
    assert.is(name, plainName.replace('sweep-', 'bursts-'));
    assert.is(plainArrivals.kind, 'poisson');
    if (arrivals.kind !== 'onOff') throw new Error(`${name} has ${arrivals.kind} arrivals`);
    on.add(arrivals.onS);
    off.add(arrivals.offS);
    assert.ok(description?.includes(`, on/off ${arrivals.onS}/${arrivals.offS} s`), description);
    assert.not.ok(plainDescription?.includes('on/off'), plainDescription);
  });
  assert.equal([...on].sort((a, b) => a - b), [0.25, 0.5, 1, 2, 3]);
  assert.equal([...off].sort((a, b) => a - b), [0.25, 0.5, 1, 2, 4]);
});

test.run();
