import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObservabilityError } from '../../../../src/core/errors.js';
import { TokenBucket } from '../../../../src/core/resource/admission/token-bucket.js';

const takeAll = (b: TokenBucket, now: number): number => {
  let n = 0;
  while (b.tryTake(now)) n++;
  return n;
};

test('starts full and admits exactly its capacity at once', () => {
  const b = new TokenBucket(100, 10, 0);
  assert.is(takeAll(b, 0), 10);
  assert.not.ok(b.tryTake(0));
});

test('refills at the rate and never beyond capacity', () => {
  const b = new TokenBucket(100, 10, 0);
  takeAll(b, 0);
  assert.is(takeAll(b, 50), 5, '50 ms at 100/s gives 5 tokens');
  assert.is(takeAll(b, 10_050), 10, 'a long pause still gives only the capacity');
});

test('a clock stepping back neither mints nor removes tokens', () => {
  const b = new TokenBucket(1000, 5, 1000);
  takeAll(b, 1000);
  assert.is(takeAll(b, 500), 0);
  assert.is(takeAll(b, 1002), 2);
});

test('reconfigure keeps saved tokens up to the new capacity', () => {
  const b = new TokenBucket(100, 10, 0);
  b.reconfigure(10, 3, 0);
  assert.is(b.rate, 10);
  assert.is(takeAll(b, 0), 3);
  assert.is(takeAll(b, 100), 1);
});

test('a taker may leave a reserve, or borrow tokens the refill then pays back', () => {
  const b = new TokenBucket(100, 10, 0);
  let kept = 0;
  while (b.tryTake(0, 2)) kept++;
  assert.is(kept, 8, 'two tokens left for others');
  let borrowed = 0;
  while (b.tryTake(0, -3)) borrowed++;
  assert.is(borrowed, 5, 'the two left, and three not yet accrued');
  assert.not.ok(b.tryTake(30), '30 ms at 100/s pays back the three: no token yet');
  assert.ok(b.tryTake(40));
});

test('rejects a rate or capacity that cannot work, naming the field', () => {
  assert.throws(() => new TokenBucket(0, 10, 0), (e: unknown) => e instanceof ObservabilityError && /rate_per_sec/.test(e.message));
  assert.throws(() => new TokenBucket(10, 0.5, 0), (e: unknown) => e instanceof ObservabilityError && /capacity/.test(e.message));
});

test.run();
