import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UnsentBudget } from '../../src/server/unsent-budget.js';

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

test.run();
