import { invalidArgument } from './errors.js';

export interface PageLimits {
  /** Taken when no limit is given. */
  default: number;
  /** The largest accepted, as the API documents it. */
  max: number;
}

/**
 * How many items a list answer holds: `default` when none is asked for, otherwise an integer in
 * [1, max], refused naming `field`. The engines decide their page sizes here so the server passes
 * the request's limit through rather than deciding them again.
 */
export function pageLimit(limit: number | undefined, field: string, limits: PageLimits): number {
  if (limit === undefined) return limits.default;
  if (limit > limits.max) throw invalidArgument(field, `must be at most ${limits.max}, got ${limit}`);
  if (!Number.isInteger(limit) || limit < 1) throw invalidArgument(field, `must be an integer in [1, ${limits.max}], got ${limit}`);
  return limit;
}
