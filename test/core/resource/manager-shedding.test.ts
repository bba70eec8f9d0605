import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KneeController } from '../../../src/core/resource/admission/knee-controller.js';
import { ResourceManager } from '../../../src/core/resource/manager.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FixturePressure, pressureSnapshot } from './manager-fixtures.js';

function setup() {
  const clock = new FakeClock();
  const pressure = new FixturePressure();
  const manager = new ResourceManager({ clock, controller: new KneeController(clock.nowMs(), { initialLimit: 10_000 }), pressure });
  /** Sets the pressure and lets the manager read it. */
  const at = (overload: number, memoryPressure = false) => {
    pressure.current = pressureSnapshot(overload, memoryPressure, clock.nowMs());
    clock.advance(1000);
    manager.tick();
  };
  const admits = (p: 'critical' | 'normal' | 'sheddable') => manager.acquire(p).admitted;
  return { manager, at, admits };
}

test('sheddable goes first, then normal, critical last', () => {
  const { at, admits } = setup();
  at(0.3);
  assert.equal([admits('critical'), admits('normal'), admits('sheddable')], [true, true, true]);
  at(0.6);
  assert.equal([admits('critical'), admits('normal'), admits('sheddable')], [true, true, false]);
  at(0.85);
  assert.equal([admits('critical'), admits('normal'), admits('sheddable')], [true, false, false]);
  at(0.99);
  assert.equal([admits('critical'), admits('normal'), admits('sheddable')], [false, false, false]);
});

test('hysteresis: shedding stops only below the exit level, not at the entry level', () => {
  const { at, admits } = setup();
  at(0.85);
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
  const { at, admits } = setup();
  at(0, true);
  assert.equal([admits('critical'), admits('normal'), admits('sheddable')], [true, true, false]);
});

test('status reports shedding by priority with counts and the snapshot as given', () => {
  const { manager, at, admits } = setup();
  at(0.85);
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
  assert.is(s.pressure.cpu.source, '/proc/stat');
});

test.run();
