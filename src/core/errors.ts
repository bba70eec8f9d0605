/**
 * Errors the engines raise for bad input or exhausted capacity. The server maps each kind onto the
 * matching gRPC/Connect code and HTTP status; engines stay free of transport imports.
 */
export type ErrorKind =
  | 'invalid_argument'
  | 'not_found'
  | 'already_exists'
  | 'resource_exhausted'
  | 'failed_precondition'
  | 'out_of_range'
  | 'permission_denied'
  | 'unavailable';

export class ObservabilityError extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** Request field the error is about (proto field path such as `samples[3].value`), if any. */
    readonly field: string | undefined,
    message: string,
    /** For resource_exhausted: when trying again can succeed, ms from now, where that is known. */
    readonly retryAfterMs?: number,
  ) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'ObservabilityError';
  }
}

export function invalidArgument(field: string, message: string): ObservabilityError {
  return new ObservabilityError('invalid_argument', field, message);
}

export function notFound(field: string, message: string): ObservabilityError {
  return new ObservabilityError('not_found', field, message);
}

export function alreadyExists(field: string, message: string): ObservabilityError {
  return new ObservabilityError('already_exists', field, message);
}

export function resourceExhausted(field: string | undefined, message: string, retryAfterMs?: number): ObservabilityError {
  return new ObservabilityError('resource_exhausted', field, message, retryAfterMs);
}

export function failedPrecondition(field: string | undefined, message: string): ObservabilityError {
  return new ObservabilityError('failed_precondition', field, message);
}

export function outOfRange(field: string, message: string): ObservabilityError {
  return new ObservabilityError('out_of_range', field, message);
}

export function permissionDenied(field: string | undefined, message: string): ObservabilityError {
  return new ObservabilityError('permission_denied', field, message);
}
