import { invalidArgument } from './errors.js';

/** Times a client stamps later than this past the service clock are refused; less is clock skew. */
const MAX_FUTURE_SKEW_MS = 60_000;

/**
 * A time a client gave (a request event's, a sample's), settled against the service clock: up to
 * 60 s ahead is the client's clock running fast, taken as now; more is refused naming `field`, as
 * it would stand as the latest time (a metric's last update, the newest event) for years.
 */
export function notInFuture(timeMs: number, nowMs: number, field: string): number {
  if (timeMs > nowMs + MAX_FUTURE_SKEW_MS) throw invalidArgument(field, 'is more than 60 s in the future');
  return Math.min(timeMs, nowMs);
}
