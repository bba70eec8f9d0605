/**
 * A counted log (the refused-connections log, say): one line per interval at most, and every refusal in some line, by
 * the interval's end or at flush, even when no refusal follows to trigger it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CountedLog } from '../../src/core/counted-log.js';

const INTERVAL_MS = 300;

test('the first refusal is written at once, the rest of a burst once the interval has passed, without another refusal', async () => {
  const lines: number[] = [];
  const log = new CountedLog(['refused'], ({ refused }) => lines.push(refused), INTERVAL_MS);
  for (let i = 0; i < 50; i++) log.add('refused');
  assert.equal(lines, [1], 'the first at once');
  await sleep(INTERVAL_MS / 2);
  assert.equal(lines, [1], 'no second line within the interval');
  await sleep(INTERVAL_MS);
  assert.equal(lines, [1, 49], 'the other 49 when the interval has passed');
  assert.is(log.totals.refused, 50);
  log.add('refused');
  assert.equal(lines, [1, 49], 'a refusal within the interval after that line waits');
  log.flush();
  assert.equal(lines, [1, 49, 1], 'flush writes what is pending');
  log.flush();
  assert.equal(lines, [1, 49, 1], 'and nothing when nothing is');
  assert.is(log.totals.refused, 51);
});

test.run();
