import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HysteresisGate } from '../../../../src/core/resource/signals/hysteresis.js';

test('a value hovering at the threshold does not flap', () => {
  const gate = new HysteresisGate();
  const states = [0.84, 0.85, 0.84, 0.83, 0.86, 0.81, 0.79, 0.84].map((value) =>
    gate.update([{ name: 'm', value, enter: 0.85, leave: 0.8 }]).length > 0,
  );
  assert.equal(states, [false, true, true, true, true, true, false, false]);
});

test('absent signals never hold the gate; any one present signal can', () => {
  const gate = new HysteresisGate();
  assert.equal(gate.update([{ name: 'psi', value: undefined, enter: 10, leave: 5 }, { name: 'heap', value: 0.95, enter: 0.9, leave: 0.85 }]), ['heap']);
  assert.equal(gate.update([{ name: 'psi', value: undefined, enter: 10, leave: 5 }, { name: 'heap', value: 0.1, enter: 0.9, leave: 0.85 }]), []);
  assert.is(gate.isOn, false);
});

test.run();
