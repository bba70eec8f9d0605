/** The nesting-depth scan run before JSON.parse: brackets in strings are not nesting. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nestedDeeperThan } from '../../../src/server/pipeline/json-depth.js';

const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);

test('counts objects and arrays inside one another, not side by side', () => {
  assert.is(nestedDeeperThan(nest(3), 3), false);
  assert.is(nestedDeeperThan(nest(4), 3), true);
  assert.is(nestedDeeperThan('{"a":{"b":[{}]}}', 4), false);
  assert.is(nestedDeeperThan('{"a":{"b":[{}]}}', 3), true);
  assert.is(nestedDeeperThan(`[${Array(100).fill(nest(3)).join(',')}]`, 4), false);
});

test('brackets in strings, escaped quotes among them, are not nesting', () => {
  assert.is(nestedDeeperThan(`["${'['.repeat(100)}"]`, 1), false);
  assert.is(nestedDeeperThan(`["\\"${'{'.repeat(100)}\\\\"]`, 1), false);
  assert.is(nestedDeeperThan(`{"\\\\":"[[[[","k":${nest(2)}}`, 2), true);
  assert.is(nestedDeeperThan(`{"\\\\":"[[[[","k":${nest(1)}}`, 2), false);
});

test('text that is not JSON ends the scan without a hang (JSON.parse refuses it)', () => {
  assert.is(nestedDeeperThan(`["${'['.repeat(100)}`, 1), false);
  assert.is(nestedDeeperThan('"\\', 1), false);
  assert.is(nestedDeeperThan('', 1), false);
});

test.run();
