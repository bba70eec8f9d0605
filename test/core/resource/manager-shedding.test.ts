import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KneeController } from '../../../src/core/resource/admission/knee-controller.js';
import { DEFAULT_SHED_ESCALATION_MS } from '../../../src/core/resource/load-shedder.js';
import { ResourceManager } from '../../../src/core/resource/manager.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FixturePressure, pressureSnapshot } from './manager-fixtures.js';

type P = 'critical' | 'normal' | 'sheddable';

function setup(initialLimit = 10_000) {
  const clock = new FakeClock();
  const pressure = new FixturePressure();
  const controller = new KneeController(clock.nowMs(), { initialLimit });
  const manager = new ResourceManager({ clock, controller, pressure });
  /** Sets the pressure and lets the manager read it, one pressure refresh later. */
  const at = (overload: number, memoryPressure = false, resourceOverload = overload) => {
    pressure.current = pressureSnapshot(overload, memoryPressure, clock.nowMs(), resourceOverload);
    clock.advance(1000);
    manager.tick();
  };
  /** Holds the pressure for `ms` (refreshed every second). */
  const hold = (ms: number, overload: number, resourceOverload = overload) => {
    for (let t = 0; t < ms; t += 1000) at(overload, false, resourceOverload);
  };
  const admits = (p: P) => {
    const r = manager.acquire(p);
    if (r.admitted) manager.release(r.permitId, 'success', 1);
    return r.admitted;
  };
  const all = () => [admits('critical'), admits('normal'), admits('sheddable')];
  return { manager, clock, controller, at, hold, admits, all };
}

const ESCALATION = DEFAULT_SHED_ESCALATION_MS;

test('sheddable goes first, then normal, critical last, at rising levels', () => {
  const { at, hold, all } = setup();
  at(0.3);
  assert.equal(all(), [true, true, true]);
  at(0.6);
  assert.equal(all(), [true, true, false]);
  hold(ESCALATION, 0.6);
  assert.equal(all(), [true, true, false], 'a level below normal\'s entry never sheds normal');
  at(0.85);
  assert.equal(all(), [true, false, false]);
  at(0.99);
  assert.equal(all(), [true, false, false], 'critical waits until normal has been shed for a while');
  hold(ESCALATION, 0.99);
  assert.equal(all(), [false, false, false]);
});

test('a level that jumps straight to 1 sheds in order, one priority per escalation time', () => {
  const { at, hold, all, manager } = setup();
  at(1);
  assert.equal(all(), [true, true, false], 'only sheddable at first');
  hold(ESCALATION - 2000, 1);
  assert.equal(all(), [true, true, false], 'normal not before sheddable has been shed for the escalation time');
  hold(2000, 1);
  assert.equal(all(), [true, false, false]);
  hold(ESCALATION - 2000, 1);
  assert.equal(all(), [true, false, false]);
  hold(2000, 1);
  assert.equal(all(), [false, false, false], 'critical once normal has been shed for the escalation time');
  const s = manager.status().shedding.byPriority;
  assert.ok(s.sheddable.sinceMs! < s.normal.sinceMs! && s.normal.sinceMs! < s.critical.sinceMs!);
  at(0.3);
  assert.equal(all(), [true, true, true], 'all stop together once the level is low');
});

test('shedding stops from the top: a priority stops when the one below it does', () => {
  const { at, hold, all } = setup();
  hold(2 * ESCALATION + 1000, 1);
  assert.equal(all(), [false, false, false]);
  at(0.9);
  assert.equal(all(), [false, false, false], 'above every exit level');
  at(0.7);
  assert.equal(all(), [true, false, false], 'below critical\'s exit (0.85), above normal\'s (0.65)');
  at(0.5);
  assert.equal(all(), [true, true, false]);
  at(0.3);
  assert.equal(all(), [true, true, true]);
});

test('the service\'s own event loop sheds sheddable and normal work, never critical', () => {
  const { hold, all } = setup();
  // Overload 1 held for minutes, all of it from the event loop (no resource part).
  hold(120_000, 1, 0);
  assert.equal(all(), [true, false, false]);
});

test('hysteresis: shedding stops only below the exit level, not at the entry level', () => {
  const { at, hold, admits } = setup();
  hold(ESCALATION + 1000, 0.85);
  assert.is(admits('normal'), false);
  at(0.7); // below enter (0.8), above exit (0.65): still shedding
  assert.is(admits('normal'), false);
  at(0.6);
  assert.is(admits('normal'), true);
  assert.is(admits('sheddable'), false, 'sheddable exits only below 0.35');
  at(0.3);
  assert.is(admits('sheddable'), true);
});

test('memory pressure alone sheds sheddable traffic', () => {
  const { at, all } = setup();
  at(0, true);
  assert.equal(all(), [true, true, false]);
  for (let t = 0; t < 3 * ESCALATION; t += 1000) at(0, true);
  assert.equal(all(), [true, true, false]);
});

test('while shedding, the controller\'s limit does not grow past where it stood when shedding began', () => {
  // Critical work at 8 in flight and 10 ms round trips, under a limit of 10: calm to the controller,
  // which would open its limit to twice that peak. Sheddable work is being refused meanwhile.
  const { manager, clock, at } = setup(10);
  const burst = () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = manager.acquire('critical');
      if (r.admitted) ids.push(r.permitId);
    }
    clock.advance(10);
    for (const id of ids) manager.release(id, 'success');
    manager.tick();
  };
  at(0.6);
  assert.is(manager.acquire('sheddable').admitted, false);
  const before = manager.limit;
  for (let t = 0; t < 60_000; t += 10) {
    if (t % 1000 === 0) at(0.6);
    burst();
  }
  assert.ok(manager.limit <= before, `limit ${manager.limit} grew past ${before} while shedding`);
  // Once shedding ends the limit may open again.
  for (let t = 0; t < 60_000; t += 10) {
    if (t % 1000 === 0) at(0);
    burst();
  }
  assert.ok(manager.limit > before, `limit ${manager.limit} held after shedding ended`);
});

test('status reports shedding by priority with counts and the snapshot as given', () => {
  const { manager, hold, admits } = setup();
  hold(ESCALATION + 1000, 0.85);
  admits('sheddable');
  admits('sheddable');
  admits('normal');
  admits('critical');
  const s = manager.status();
  assert.is(s.shedding.byPriority.sheddable.active, true);
  assert.is(s.shedding.byPriority.sheddable.shed, 2);
  assert.is(s.shedding.byPriority.normal.shed, 1);
  assert.is(s.shedding.byPriority.critical.active, false);
  assert.ok(s.shedding.byPriority.normal.sinceMs !== undefined);
  assert.is(s.shedding.level, 0.85);
  assert.equal(s.totals.rejected, { critical: 0, normal: 1, sheddable: 2 });
  assert.equal(s.window.rejected, { critical: 0, normal: 1, sheddable: 2 });
  assert.is(s.pressure.overload, 0.85);
  assert.is(s.pressure.cpu!.source, '/proc/stat');
});

test.run();
