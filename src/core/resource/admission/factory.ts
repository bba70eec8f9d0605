import { invalidArgument } from '../../errors.js';
import { KneeController } from './knee-controller.js';
import { SeedRuleController, seedRuleOptionsFromEnv } from './seed-rule.js';
import type { AdmissionController } from './types.js';

/** The controllers the service can run: the project's adaptive one (default) or rs3gw's seed rule. */
export type AdmissionKind = 'adaptive' | 'seed';

/**
 * Builds the service's admission controller. `adaptive` needs no tuning; `seed` reads
 * RS3GW_INITIAL_RATE_LIMIT, RS3GW_MIN_RATE_LIMIT, RS3GW_MAX_RATE_LIMIT and RS3GW_ADAPTIVE_RATE_LIMIT.
 */
export function createAdmissionController(
  kind: AdmissionKind,
  nowMs: number,
  env: Record<string, string | undefined> = {},
): AdmissionController {
  if (kind === 'adaptive') return new KneeController(nowMs);
  if (kind === 'seed') return new SeedRuleController(nowMs, seedRuleOptionsFromEnv(env));
  throw invalidArgument('admission_controller', `must be 'adaptive' or 'seed', got '${String(kind)}'`);
}
