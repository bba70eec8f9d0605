/**
 * Every stderr line starts with the service's prefix and stays one line: a value quoted in it (a
 * setting as the operator wrote it, a client's input) cannot split it, nor rewrite it on a
 * terminal with a carriage return or an escape sequence.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { logLine } from '../../src/core/log-line.js';
import { stderrOf } from '../support/stderr.js';

function written(text: string): string {
  return stderrOf(() => logLine(text));
}

test('one line with the prefix, line breaks of every kind made a space', () => {
  assert.is(written('RS3GW_X: bad value 12\n  rs3gw-obs: all fine'), 'rs3gw-obs: RS3GW_X: bad value 12 rs3gw-obs: all fine\n');
  assert.is(written('a\rb'), 'rs3gw-obs: a b\n');
  assert.is(written('a\r\nb\u2028c\u2029d\u0085e'), 'rs3gw-obs: a b c d e\n');
});

test('other control characters are shown, not sent to the terminal; tabs and text are kept', () => {
  assert.is(written('x\x1b[2Jy\x00z\x7f'), 'rs3gw-obs: x\\x1b[2Jy\\x00z\\x7f\n');
  assert.is(written('a\u009b2Jb'), 'rs3gw-obs: a\\x9b2Jb\n', 'C1: the one-character escape introducer');
  assert.is(written('a\tb, ünïcode ✓'), 'rs3gw-obs: a\tb, ünïcode ✓\n');
});

test.run();
