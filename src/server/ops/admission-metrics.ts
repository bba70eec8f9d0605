/**
 * Admission on /metrics: the limit, permits in flight, what was admitted and refused (and why),
 * shedding and the pressure behind it. Everything is read from the manager when scraped.
 */
import type { MetricsEngine } from '../../core/metrics/index.js';
import { PRIORITIES } from '../../core/resource/admission/types.js';
import { REFUSAL_REASONS, type ResourceManager } from '../../core/resource/manager.js';

export function admissionMetrics(metrics: MetricsEngine, manager: ResourceManager): void {
  // The controller is chosen at start-up, so one of the two limit families is ever exposed.
  if (manager.status().limitUnit === 'rps') {
    metrics.builtin.gauge({
      name: 'rs3gw_admission_rate_limit_requests_per_second',
      help: 'Requests per second the admission controller (seed) admits now',
      collect() {
        this.set(manager.limit);
      },
    });
  } else {
    metrics.builtin.gauge({
      name: 'rs3gw_admission_concurrency_limit',
      help: 'Requests in flight the admission controller (adaptive) admits at most now; critical ones may go 50 % beyond it',
      collect() {
        this.set(manager.limit);
      },
    });
  }
  metrics.builtin.gauge({
    name: 'rs3gw_admission_permits_in_flight',
    help: 'Permits of work in progress: acquired, not released, reclaimed or presumed lost',
    collect() {
      this.set(manager.inflight);
    },
  });
  metrics.builtin.gauge({
    name: 'rs3gw_admission_permits_presumed_lost',
    help: 'Permits held far longer than work takes: their slots went back to the controller, but each can still be released until its lease runs out',
    collect() {
      this.set(manager.status().presumedLost);
    },
  });
  metrics.builtin.counter({
    name: 'rs3gw_admission_admitted_total',
    help: 'Acquires admitted, by priority',
    labelNames: ['priority'],
    collect() {
      const { admitted } = manager.status().totals;
      this.reset();
      for (const priority of PRIORITIES) this.inc({ priority }, admitted[priority]);
    },
  });
  metrics.builtin.counter({
    name: 'rs3gw_admission_refused_total',
    help: 'Acquires refused, by priority and reason: shedding (pressure), controller_limit (the admission limit), outstanding_cap (RS3GW_MAX_PERMITS)',
    labelNames: ['priority', 'reason'],
    collect() {
      const { rejectedByReason } = manager.status().totals;
      this.reset();
      for (const reason of REFUSAL_REASONS) {
        for (const priority of PRIORITIES) this.inc({ priority, reason }, rejectedByReason[reason][priority]);
      }
    },
  });
  metrics.builtin.counter({
    name: 'rs3gw_admission_permits_reclaimed_total',
    help: 'Permits reclaimed as dropped: not released within RS3GW_PERMIT_LEASE, or presumed lost and forgotten to make room under RS3GW_MAX_PERMITS',
    collect() {
      this.reset();
      this.inc(manager.status().totals.reclaimed);
    },
  });
  metrics.builtin.gauge({
    name: 'rs3gw_admission_shedding',
    help: 'Whether Acquires of this priority are refused for pressure now (1) or not (0)',
    labelNames: ['priority'],
    collect() {
      const { byPriority } = manager.status().shedding;
      for (const priority of PRIORITIES) this.set({ priority }, byPriority[priority].active ? 1 : 0);
    },
  });
  metrics.builtin.gauge({
    name: 'rs3gw_admission_pressure_level',
    help: 'Pressure level load shedding acts on, 0 (none) to 1 (severe): the overload level, raised to a fixed level under memory pressure; sheddable work is shed first, critical last',
    collect() {
      this.set(manager.status().shedding.level);
    },
  });
  metrics.builtin.gauge({
    name: 'rs3gw_memory_pressure',
    help: 'Whether the service is under memory pressure (1) or not (0), from memory use (RS3GW_MEMORY_THRESHOLD), the V8 old generation (90 % full) or PSI memory full (10 %, avg10), each with hysteresis',
    collect() {
      this.set(manager.status().pressure.memoryPressure ? 1 : 0);
    },
  });
}
