/**
 * The business KPIs as Prometheus metrics, created through the metrics engine's KPI factory so they
 * appear in `/metrics` and in the metrics export. Counters and the latency histogram are fed per
 * event; gauges are computed at collection time from the state `KpiGauges` exposes.
 */
import type { Counter, Histogram } from 'prom-client';
import type { MetricsEngine } from '../metrics/engine.js';
import { OPERATIONS } from './events.js';

/** Millisecond bounds from a fast cache hit to a slow multi-GB transfer. */
const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The classes of the status codes an event may carry (100..599, events.ts). */
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const DIRECTIONS = ['in', 'out'] as const;

export interface KpiGauges {
  storage(): { buckets: number; objects: number; totalBytes: number };
  /** Apart from storage(): the fit over a day of levels costs more than reading the level. Null: no rate yet. */
  storageGrowthBytesPerDay(): number | null;
  transferRates(): { upload: number; download: number };
  activeUsers(): { hour: number; day: number };
  users(): { tracked: number; evicted: number };
  costs(): { storageUsdPerMonth: number; transferOutUsd: number; requestsUsd: number };
}

export interface KpiInstruments {
  requests: Counter<'operation' | 'status_class'>;
  bucketRequests: Counter<'bucket'>;
  transferBytes: Counter<'direction'>;
  latency: Histogram<'operation'>;
}

export function createKpiInstruments(metrics: MetricsEngine, gauges: KpiGauges, maxTrackedUsers: number): KpiInstruments {
  const cap = maxTrackedUsers.toLocaleString('en-US');
  const kpi = metrics.kpi;
  const gauge = (name: string, help: string, unit: string, read: () => number) =>
    kpi.gauge({
      name,
      help,
      unit,
      collect() {
        this.set(read());
      },
    });
  gauge('rs3gw_storage_bytes', 'Total storage used in bytes', 'bytes', () => gauges.storage().totalBytes);
  gauge('rs3gw_storage_objects', 'Objects stored', 'objects', () => gauges.storage().objects);
  gauge('rs3gw_storage_buckets', 'Buckets', 'buckets', () => gauges.storage().buckets);
  kpi.gauge({
    name: 'rs3gw_storage_growth_bytes_per_day',
    help: 'Growth of stored bytes per day (linear fit over the last 24 h or since start); absent until that covers 1 h',
    unit: 'bytes_per_day',
    collect() {
      const rate = gauges.storageGrowthBytesPerDay();
      // No sample rather than 0 while there is no rate: 0 would read as "flat".
      if (rate === null) this.remove();
      else this.set(rate);
    },
  });
  kpi.gauge({
    name: 'rs3gw_transfer_rate_bytes_per_second',
    help: 'Transfer rate over the sliding window, by direction (in = upload, out = download)',
    unit: 'bytes_per_second',
    labelNames: ['direction'],
    collect() {
      const rates = gauges.transferRates();
      this.set({ direction: 'in' }, rates.upload);
      this.set({ direction: 'out' }, rates.download);
    },
  });
  kpi.gauge({
    name: 'rs3gw_active_users',
    help: `Distinct users seen within the window: exact while the user table (${cap} users) lost none of them, else a HyperLogLog estimate (relative standard error 1.6%)`,
    unit: 'users',
    labelNames: ['window'],
    collect() {
      const active = gauges.activeUsers();
      this.set({ window: '1h' }, active.hour);
      this.set({ window: '24h' }, active.day);
    },
  }, { seriesAddUp: false });
  gauge('rs3gw_tracked_users', `Users in the user table behind top users (at most ${cap})`, 'users', () => gauges.users().tracked);
  kpi.counter({
    name: 'rs3gw_evicted_users_total',
    help: 'Users replaced in the full user table (Space-Saving: the one with the fewest requests goes)',
    unit: 'users',
    collect() {
      // A counter read at collection: reset, then set to the running total the tracker keeps.
      this.reset();
      this.inc(gauges.users().evicted);
    },
  });
  kpi.gauge({
    name: 'rs3gw_estimated_cost_usd',
    help: 'Estimated cost by component: storage_month (one month at current size), transfer_out and requests (since start)',
    unit: 'usd',
    labelNames: ['component'],
    collect() {
      const costs = gauges.costs();
      this.set({ component: 'storage_month' }, costs.storageUsdPerMonth);
      this.set({ component: 'transfer_out' }, costs.transferOutUsd);
      this.set({ component: 'requests' }, costs.requestsUsd);
    },
  }, { seriesAddUp: false });

  const instruments: KpiInstruments = {
    requests: kpi.counter({
      name: 'rs3gw_requests_total',
      help: 'Gateway requests by operation and status class',
      unit: 'requests',
      labelNames: ['operation', 'status_class'],
    }),
    bucketRequests: kpi.counter({
      name: 'rs3gw_bucket_requests_total',
      help: 'Gateway requests by bucket (capped; further buckets count as _other)',
      unit: 'requests',
      labelNames: ['bucket'],
    }),
    transferBytes: kpi.counter({
      name: 'rs3gw_transfer_bytes_total',
      help: 'Bytes transferred, by direction (in = upload, out = download)',
      unit: 'bytes',
      labelNames: ['direction'],
    }),
    latency: kpi.histogram({
      name: 'rs3gw_request_duration_seconds',
      help: 'Gateway request latency in seconds (Prometheus base unit)',
      unit: 'seconds',
      labelNames: ['operation'],
      buckets: LATENCY_BUCKETS_SECONDS,
    }),
  };
  presetSeries(instruments);
  return instruments;
}

/**
 * Every series whose labels take a fixed set of values exists at 0 from the start, as the admission
 * counters do: a series created at its first event makes Prometheus's rate() and increase() miss that
 * first burst (they need a previous sample, and a counter appearing at 5 reads as no increase).
 * operation x status_class of rs3gw_requests_total (10 x 5 = 50 series), direction of
 * rs3gw_transfer_bytes_total (2) and operation of rs3gw_request_duration_seconds (10 series of 14
 * buckets, +Inf, _sum and _count: 170 lines). rs3gw_bucket_requests_total cannot be: its bucket is
 * open-ended. Only the Prometheus series are preset; the business report's state is not touched.
 */
function presetSeries({ requests, transferBytes, latency }: KpiInstruments): void {
  for (const operation of OPERATIONS) {
    for (const status_class of STATUS_CLASSES) requests.inc({ operation, status_class }, 0);
    latency.zero({ operation });
  }
  for (const direction of DIRECTIONS) transferBytes.inc({ direction }, 0);
}

export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}
