/** The standard OTEL_* variables, validated like the service's own: a bad value names its variable. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadConfig } from '../../src/config/index.js';

function rejects(env: Record<string, string>, variable: string): void {
  try {
    loadConfig(env);
    assert.unreachable(`accepted ${JSON.stringify(env)}`);
  } catch (error) {
    assert.instance(error, ConfigError);
    assert.is((error as ConfigError).setting, variable, (error as Error).message);
  }
}

test('OTEL_LOG_LEVEL takes the specification\'s levels in any case, warn by default', () => {
  assert.is(loadConfig({}).telemetry.logLevel, 'warn');
  for (const level of ['NONE', 'error', 'Warn', 'INFO', 'debug', 'VERBOSE', 'all']) assert.is(loadConfig({ OTEL_LOG_LEVEL: level }).telemetry.logLevel, level.toLowerCase());
  assert.is(loadConfig({ OTEL_LOG_LEVEL: ' ' }).telemetry.logLevel, 'warn', 'blank is unset');
  for (const bad of ['trace', 'loud', '3']) rejects({ OTEL_LOG_LEVEL: bad }, 'OTEL_LOG_LEVEL');
});

test.run();
