import { BusinessMetrics, type BusinessLimits, type Prices, type RequestEvent } from '../../../src/core/business/index.js';
import { MetricsEngine } from '../../../src/core/metrics/index.js';
import { FakeClock } from '../../support/fake-clock.js';

export function setup(options: { limits?: Partial<BusinessLimits>; prices?: Partial<Prices> } = {}) {
  // One fake clock as both wall and interval clock; tests of a wall-clock step pass a second one.
  const clock = new FakeClock();
  const metrics = new MetricsEngine({ clock, intervals: clock, defaultMetrics: false });
  const business = new BusinessMetrics({ metrics, clock, intervals: clock, ...options });
  return { clock, metrics, business };
}

/** A successful GET unless overridden. */
export function event(overrides: Partial<RequestEvent> = {}): RequestEvent {
  return {
    operation: 'get_object',
    bucket: 'photos',
    user: 'alice',
    status: 200,
    bytesIn: 0,
    bytesOut: 0,
    latencyMs: 10,
    ...overrides,
  };
}
