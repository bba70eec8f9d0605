import * as assert from 'uvu/assert';
import { ObservabilityError, type ErrorKind } from '../../src/core/errors.js';

/** The ObservabilityError `fn` throws; fails the test if it throws nothing or something else. */
export function errorOf(fn: () => unknown): ObservabilityError {
  try {
    fn();
  } catch (error) {
    assert.instance(error, ObservabilityError);
    return error as ObservabilityError;
  }
  throw new Error('expected an error');
}

/** What `promise` rejects with (an ObservabilityError unless the caller says otherwise); fails the test if it resolves. */
export async function rejectionOf<E extends Error = ObservabilityError>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, Error);
    return error as E;
  }
  throw new Error('expected the promise to reject');
}

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
