import { createAdmissionController } from '../../../src/core/resource/admission/factory.js';
import type { ControllerFactory } from '../engine/simulate.js';
import { AimdController } from './aimd.js';
import { EnvoyGradientController } from './envoy.js';
import { Gradient2Controller } from './gradient2.js';
import { NoLimitController } from './none.js';
import { VegasController } from './vegas.js';

/**
 * Every controller the simulation compares, by the name used in its output. `project` and `seed`
 * are built by the factory the service uses, with their shipped defaults.
 */
export const CONTROLLERS: Record<string, ControllerFactory> = {
  project: (now) => createAdmissionController('adaptive', now),
  seed: (now) => createAdmissionController('seed', now),
  none: () => new NoLimitController(),
  aimd: () => new AimdController(),
  vegas: () => new VegasController(),
  gradient2: () => new Gradient2Controller(),
  envoy: (now) => new EnvoyGradientController(now),
};

export const CONTROLLER_NAMES = Object.keys(CONTROLLERS);
