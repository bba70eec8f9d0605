import { invalidArgument } from '../../errors.js';
import { KneeController } from './knee-controller.js';
import { SeedRuleController, type SeedRuleOptions } from './seed-rule.js';
import type { AdmissionController } from './types.js';

/** The controllers the service can run: the project's adaptive one (default) or rs3gw's seed rule. */
export type AdmissionKind = 'adaptive' | 'seed';

/**
 * Builds the admission controller, for the service and the simulation alike. `adaptive` needs no
 * tuning; `seed` is rs3gw's token bucket with `seedOptions` over its defaults. A fixed rate
 * (`seedOptions.adaptive === false`) means the seed rule's bucket held at its initial rate, whatever
 * the kind: the operator asked for no adaptation at all.
 */
export function createAdmissionController(
  kind: AdmissionKind,
  nowMs: number,
  seedOptions: Partial<SeedRuleOptions> = {},
): AdmissionController {
  if (kind !== 'adaptive' && kind !== 'seed') {
    throw invalidArgument('admission_controller', `must be 'adaptive' or 'seed', got '${String(kind)}'`);
  }
  if (kind === 'seed' || seedOptions.adaptive === false) return new SeedRuleController(nowMs, seedOptions);
  return new KneeController(nowMs);
}
