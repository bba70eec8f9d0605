import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REFUSABLE_ANSWER_BYTES, UnsentBudget } from '../../src/server/unsent-budget.js';

const refusedBy = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  return 'not refused';
};

test('renders in progress hold their estimate: a burst of first scrapes cannot all start on room for one', () => {
  const socketBytes = { held: 0 };
  const budget = new UnsentBudget(250, () => socketBytes.held, 100);
  const first = budget.check('scrape', '/metrics');
  const second = budget.check('scrape', '/metrics');
  assert.is(budget.held(), 200);
  // What clients have not taken (the gauge) leaves the estimates out: nothing is unsent yet.
  assert.is(budget.unsent(), 0);
  assert.match(refusedBy(() => budget.check('scrape', '/metrics')), /RS3GW_MAX_UNSENT_BYTES \(250 bytes; 200 held now\)/);
  first.release();
  second.release();
  second.release(); // twice is harmless
  assert.is(budget.held(), 0);
  assert.is(budget.refused, 1);
});

test('once made, a render is judged by its size, and the next by the last size of its kind', async () => {
  const socketBytes = { held: 0 };
  const budget = new UnsentBudget(250, () => socketBytes.held, 100);
  budget.check('scrape', '/metrics').admit(30);
  await new Promise((resolve) => setImmediate(resolve)); // the transport has the bytes now
  socketBytes.held = 30;
  // Estimated at 30 bytes now, not 100: six more fit beside the 30 held.
  const tickets = Array.from({ length: 7 }, () => budget.check('scrape', '/metrics'));
  assert.is(budget.held(), 240);
  assert.match(refusedBy(() => budget.check('scrape', '/metrics')), /past RS3GW_MAX_UNSENT_BYTES/);
  for (const t of tickets) t.release();
});

test('a render with nothing else held always goes ahead, even one larger than the cap', () => {
  const budget = new UnsentBudget(50, () => 0, 100);
  const ticket = budget.check('scrape', '/metrics');
  ticket.admit(400);
  assert.match(refusedBy(() => budget.check('scrape', '/metrics')), /past RS3GW_MAX_UNSENT_BYTES/);
});

test('any answer of REFUSABLE_ANSWER_BYTES or more is judged: refused when it does not fit, counted for the turn when it does', async () => {
  const socketBytes = { held: 0 };
  const budget = new UnsentBudget(100_000, () => socketBytes.held, 100);
  // Nothing held: even an answer past the cap goes.
  budget.answer('GetStatistics', 200_000);
  // Counted until the transport has it: the next one in the same turn finds the room taken.
  assert.is(budget.unsent(), 200_000);
  assert.match(
    refusedBy(() => budget.answer('GetStatistics', REFUSABLE_ANSWER_BYTES)),
    /^GetStatistics: its 16384 bytes would take the responses not yet taken by clients past RS3GW_MAX_UNSENT_BYTES \(100000 bytes; 200000 held now\)/,
  );
  // A smaller answer is never refused, and left to the transport's measure.
  budget.answer('Check', REFUSABLE_ANSWER_BYTES - 1);
  assert.is(budget.unsent(), 200_000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.is(budget.unsent(), 0);
  // Room again: 60,000 held in the sockets leaves 40,000.
  socketBytes.held = 60_000;
  budget.answer('GetStatistics', 40_000);
  assert.match(refusedBy(() => budget.answer('ListAnomalies', 20_000)), /^ListAnomalies: .*\(100000 bytes; 100000 held now\)/);
  assert.is(budget.refused, 2);
});

test('a render judged where it is handed over (made) is not counted twice, and sets the next estimate', () => {
  const budget = new UnsentBudget(100_000, () => 0, 100);
  const ticket = budget.check('export', 'ExportMetrics');
  ticket.made(90_000);
  assert.is(budget.held(), 0, 'the estimate is released, the bytes left to answer()');
  budget.answer('ExportMetrics', 90_000);
  assert.is(budget.held(), 90_000);
  // The next export is estimated at 90,000: with 90,000 held it would pass 100,000.
  assert.match(refusedBy(() => budget.check('export', 'ExportMetrics')), /^ExportMetrics: its 90000 bytes/);
});

test.run();
