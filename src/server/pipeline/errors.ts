/** Maps engine errors onto Connect/gRPC codes, and codes onto HTTP statuses for REST. */
import { Code, ConnectError } from '@connectrpc/connect';
import { ObservabilityError, type ErrorKind } from '../../core/errors.js';
import { clipMessage } from './well-known.js';
import { logInternalError } from '../internal-error.js';

const CODE_OF_KIND: Record<ErrorKind, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  resource_exhausted: Code.ResourceExhausted,
  failed_precondition: Code.FailedPrecondition,
  out_of_range: Code.OutOfRange,
  permission_denied: Code.PermissionDenied,
  unavailable: Code.Unavailable,
};

/** Why a call's signal was aborted: the transport's ConnectError (deadline, cancel), or a cancel. */
export function abortError(signal: AbortSignal): ConnectError {
  return signal.reason instanceof ConnectError ? signal.reason : new ConnectError('the call was canceled', Code.Canceled);
}

/**
 * Turns anything a handler threw into a ConnectError; unexpected errors are logged, not leaked.
 * Whatever a handler throws once its call was aborted is the abort (canceled, deadline exceeded).
 * Messages repeat client input (an unknown id, a bad value): long values in them are clipped here,
 * the one place every error of every protocol passes.
 */
export function toConnectError(error: unknown, signal?: AbortSignal): ConnectError {
  if (signal?.aborted && !(error instanceof ObservabilityError)) return abortError(signal);
  if (error instanceof ConnectError) {
    const message = clipMessage(error.rawMessage);
    return message === error.rawMessage ? error : new ConnectError(message, error.code, error.metadata, error.details as never, error.cause);
  }
  if (error instanceof ObservabilityError) {
    // HTTP's Retry-After, whole seconds rounded up; Connect sends it as a header, REST and /debug/pprof write it.
    const metadata = error.retryAfterMs === undefined ? undefined : { 'retry-after': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) };
    return new ConnectError(clipMessage(error.message), CODE_OF_KIND[error.kind], metadata);
  }
  logInternalError('a call failed', error);
  return new ConnectError('internal error', Code.Internal);
}

/**
 * The cause of a refusal that is the client's mistake though its code is one the server's own
 * failures have too (UNIMPLEMENTED for a content type or coding REST does not read, or a stream
 * body that is not one whole message): the call's span leaves its status unset, as for any other
 * mistake of the client's.
 */
export class ClientFault extends Error {}

/** Whether a call that failed with `error` failed for the client's mistake, whatever its code says. */
export function isClientFault(error: ConnectError): boolean {
  return error.cause instanceof ClientFault;
}

const HTTP_STATUS_OF_CODE: Partial<Record<Code, number>> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

/** The Retry-After header an error carries (a refusal that knows when a place frees), if any. */
export function retryAfterHeader(error: ConnectError): Record<string, string> {
  const value = error.metadata.get('retry-after');
  return value === null ? {} : { 'retry-after': value };
}

export function httpStatusOf(code: Code): number {
  return HTTP_STATUS_OF_CODE[code] ?? 500;
}

/** The Connect protocol's name for a code, e.g. "invalid_argument". */
export function codeName(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (c, i: number) => (i > 0 ? '_' : '') + c.toLowerCase());
}
