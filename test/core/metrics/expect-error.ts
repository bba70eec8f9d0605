import * as assert from 'uvu/assert';
import { ObservabilityError, type ErrorKind } from '../../../src/core/errors.js';

/** Asserts that `run` throws (or rejects with) an ObservabilityError of `kind` about `field`; returns it. */
export async function expectError(
  run: () => unknown,
  kind: ErrorKind,
  field: string | undefined,
  messagePart?: string,
): Promise<ObservabilityError> {
  let caught: unknown;
  try {
    await run();
  } catch (err) {
    caught = err;
  }
  assert.instance(caught, ObservabilityError, `expected an ObservabilityError (${kind} on ${field})`);
  const error = caught as ObservabilityError;
  assert.is(error.kind, kind, error.message);
  assert.is(error.field, field, error.message);
  if (messagePart) assert.ok(error.message.includes(messagePart), `"${error.message}" should mention "${messagePart}"`);
  return error;
}
