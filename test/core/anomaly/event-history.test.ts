/**
 * The anomaly history keeps the newest `capacity` events and, in its ledger, what filters read of
 * the `capacity` dropped before them; its storage grows with the events (see memory.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventHistory } from '../../../src/core/anomaly/event-history.js';
import type { AnomalyEvent } from '../../../src/core/anomaly/types.js';

function event(sequence: number): AnomalyEvent {
  return {
    sequence,
    metric: `m${sequence % 3}`,
    value: sequence,
    baselineMean: 0,
    deviationSigma: 5,
    score: 1,
    severity: sequence % 2 === 0 ? 'high' : 'low',
    anomalyType: 'other',
    expected: 0,
    lower: 0,
    upper: 0,
    detector: 'ensemble/spike',
    direction: 'above',
    timeMs: sequence,
    detectedAtMs: sequence,
  };
}

test('before, at and after capacity (the ledger past its first growth): the newest retained in order, dropped ones counted by filter', () => {
  const capacity = 150;
  const history = new EventHistory(capacity);
  for (let seq = 1; seq <= 1_000; seq++) {
    history.append(event(seq));
    const oldest = Math.max(1, seq - capacity + 1);
    assert.is(history.length, seq - oldest + 1);
    assert.is(history.oldestSequence(), oldest);
    assert.is(history.newestSequence(), seq);
    if (seq % 37 !== 0) continue;
    for (let i = 0; i < history.length; i++) assert.is(history.at(i).sequence, oldest + i);
    // Dropped: sequences below `oldest`; the ledger holds the newest `capacity` of them.
    const firstInLedger = Math.max(1, oldest - capacity);
    const m1 = (metric: string) => metric === 'm1';
    let expected = 0;
    for (let s = firstInLedger; s < oldest; s++) if (s % 3 === 1) expected++;
    assert.equal(history.countDropped(firstInLedger - 1, oldest - 1, m1), { count: expected, upperBound: false }, `after ${seq}`);
    if (firstInLedger > 1) {
      assert.equal(history.countDropped(0, oldest - 1, m1), { count: expected + firstInLedger - 1, upperBound: true });
    }
  }
});

test.run();
