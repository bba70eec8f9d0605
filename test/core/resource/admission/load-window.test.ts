import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LoadWindow } from '../../../../src/core/resource/admission/load-window.js';

test('time and completions at or above the loaded inflight are counted apart from the silence', () => {
  const w = new LoadWindow(0, 0);
  w.loadedFrom(2);
  w.inflightChanged(0, 3); // a burst: 3 in flight from 0 ms
  w.inflightChanged(10, 2);
  w.addCompletion(); // left 2: loaded
  w.inflightChanged(30, 1);
  w.addCompletion(); // left 1: counted, it was loaded before it
  w.inflightChanged(40, 0);
  w.addCompletion(); // left 0: not loaded
  const summary = w.roll(100); // then silence until 100 ms
  assert.is(summary.completions, 3);
  assert.is(summary.loadedMs, 30);
  assert.is(summary.loadedCompletions, 2);
  assert.is(summary.meanInflight, (3 * 10 + 2 * 20 + 1 * 10) / 100);
});

test('the counts restart with each window, and nothing is loaded before a threshold is set', () => {
  const w = new LoadWindow(0, 5);
  w.inflightChanged(10, 4);
  w.addCompletion();
  const first = w.roll(20);
  assert.is(first.loadedMs, 0);
  assert.is(first.loadedCompletions, 0);
  w.loadedFrom(4);
  const second = w.roll(50);
  assert.is(second.loadedMs, 30);
  assert.is(second.loadedCompletions, 0);
});

test('drops count in the delay the queue shows, not in the round trips of the service', () => {
  const w = new LoadWindow(0, 2);
  w.addCompletion();
  w.addSample(100);
  w.addCompletion();
  w.addDrop(1300);
  const summary = w.roll(1000);
  assert.is(summary.samples, 1);
  assert.is(summary.drops, 1);
  assert.is(summary.meanRttMs, 100);
  assert.is(summary.delayMs, 700);
  const next = w.roll(2000);
  assert.is(next.drops, 0);
  assert.is(next.delayMs, 0);
});

test.run();
