import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bestQueue } from '../../../../src/core/resource/admission/queue-trade.js';

const IDLE_TARGET = 0.003;

test('just above capacity without contention the queue grows to the longest allowed', () => {
  // 16 servers at 1.05x: a queue of 11 runs dry often enough to idle about 4 % of them.
  assert.is(bestQueue(16, 1.05, 0, IDLE_TARGET, 11, 16), 16);
});

test('contention shortens it: each request in flight then slows the service', () => {
  const free = bestQueue(16, 1.05, 0, IDLE_TARGET, 11, 40);
  const slowed = bestQueue(16, 1.05, 0.003, IDLE_TARGET, 11, 40);
  assert.ok(slowed > 11 && slowed < free, `without contention ${free}, with ${slowed}`);
  assert.is(bestQueue(16, 1.05, 0.05, IDLE_TARGET, 11, 40), 11, 'heavy contention keeps the short queue');
});

test('under heavy overload the short queue already keeps the servers busy and is kept', () => {
  assert.is(bestQueue(16, 2, 0, IDLE_TARGET, 7.4, 16), 7.4);
  assert.is(bestQueue(16, 10, 0, IDLE_TARGET, 5.4, 16), 5.4);
});

test('it stops once the servers idle less than the target, short of the longest allowed', () => {
  const q = bestQueue(16, 1.2, 0, IDLE_TARGET, 11, 400);
  assert.ok(q > 11 && q < 40, `queue ${q}`);
});

test('large servers and long queues stay finite', () => {
  const q = bestQueue(5000, 1.001, 0, IDLE_TARGET, 10, 5003);
  assert.ok(Number.isFinite(q) && q >= 10 && q <= 5003, `queue ${q}`);
});

test.run();
