/**
 * An unexpected error on stderr: one line with the service's prefix, then only the stack's frames,
 * so that a log reader can tell every line the service writes by its start.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { logInternalError } from '../../src/server/internal-error.js';
import { stderrOf } from '../support/stderr.js';

function written(run: () => void): string[] {
  return stderrOf(run).replace(/\n$/, '').split('\n');
}

test('an Error: the prefix and its message on one line, then its frames', () => {
  const lines = written(() => logInternalError('GET /metrics', new TypeError('cannot read\nthis value')));
  assert.is(lines[0], 'rs3gw-obs: internal error: GET /metrics: TypeError: cannot read this value');
  assert.ok(lines.length > 1, 'with the stack');
  for (const line of lines.slice(1)) assert.match(line, /^\s+at /);
});

test('something thrown that is no Error: one line', () => {
  assert.equal(written(() => logInternalError('a call failed', { code: 1, detail: 'x\ny' })), ["rs3gw-obs: internal error: a call failed: { code: 1, detail: 'x\\ny' }"]);
});

test.run();
