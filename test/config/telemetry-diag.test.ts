/**
 * OpenTelemetry's own log on stderr, as the service installs it: a message repeated within a
 * minute is not written again, and the messages followed for that are at most 100, the oldest
 * forgotten first, so a stream of distinct messages cannot grow the service's memory.
 */
import { diag } from '@opentelemetry/api';
import { loggingErrorHandler, setGlobalErrorHandler } from '@opentelemetry/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { installDiagLogger } from '../../src/telemetry/diag.js';
import { stderrOf } from '../support/stderr.js';

const FOLLOWED = 100;

// The logger is global: the test files run after this one in the same process find none again.
test.after(() => {
  diag.disable();
  setGlobalErrorHandler(loggingErrorHandler());
});

/** The stderr lines written while `log` runs. */
function written(log: () => void): string[] {
  return stderrOf(log).split('\n').filter(Boolean);
}

const warn = (i: number) => diag.warn(`collector number ${i} unreachable`);
const line = (i: number) => `rs3gw-obs: OpenTelemetry warn: collector number ${i} unreachable`;

test('100 distinct messages are followed; the 101st makes the oldest forgotten, which is then written again on its next repeat', () => {
  installDiagLogger('warn', { protocol: 'http/protobuf', exportTimeoutMillis: 30_000 });
  const first = Array.from({ length: FOLLOWED }, (_, i) => i);
  assert.equal(written(() => first.forEach(warn)), first.map(line), 'each distinct message once');
  assert.equal(written(() => warn(0)), [], 'the oldest of 100 is still followed: its repeat is held back');

  assert.equal(written(() => warn(FOLLOWED)), [line(FOLLOWED)]);
  assert.equal(written(() => [...first.slice(1), FOLLOWED].forEach(warn)), [], 'the 100 newest are followed');
  assert.equal(written(() => warn(0)), [line(0)], 'the oldest was forgotten: written again, as new');
  // Following it again made the next oldest go.
  assert.equal(written(() => [...first.slice(2), FOLLOWED, 0].forEach(warn)), []);
  assert.equal(written(() => warn(1)), [line(1)]);
});

test.run();
