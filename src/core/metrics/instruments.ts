/**
 * Factory for the service's own instruments (RPC latency, request counters, business KPIs). They are
 * plain prom-client objects, registered by the engine in both exposition registries; names are checked
 * against every other metric so nothing collides in `/metrics`.
 */
import {
  Counter,
  Gauge,
  Histogram,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
  type Metric,
} from 'prom-client';
import { checkDescription, checkLabelNames, checkMetricName, checkUnit } from './names.js';
import type { MetricType } from './types.js';

/** What a factory hands to the engine for each instrument it creates. */
export interface Instrument {
  type: MetricType;
  name: string;
  help: string;
  labelNames: string[];
  metric: Metric;
  buckets?: number[];
  /** Unit of the values (MetricDescriptor.unit); empty when not given. */
  unit?: string;
  /**
   * false where the series are views of one figure (windows, components of a cost) rather than
   * parts of a whole: their sum means nothing, so the JSON export gives the metric no total.
   */
  seriesAddUp?: boolean;
}

/**
 * prom-client configurations without `registers` (the engine decides where instruments go), with
 * the unit the catalogue lists (prom-client has none).
 */
export type InstrumentConfig<C> = Omit<C, 'registers'> & { unit?: string };

const RESERVED_LABEL: Partial<Record<MetricType, string>> = { histogram: 'le', summary: 'quantile' };

export class InstrumentFactory {
  constructor(private readonly adopt: (instrument: Instrument) => void) {}

  counter<T extends string>(config: InstrumentConfig<CounterConfiguration<T>>): Counter<T> {
    const labelNames = this.check('counter', config);
    const { unit, ...rest } = config;
    const counter = new Counter<T>({ ...rest, registers: [] });
    this.adopt({ type: 'counter', name: config.name, help: config.help, labelNames, metric: counter, unit });
    return counter;
  }

  gauge<T extends string>(config: InstrumentConfig<GaugeConfiguration<T>>, options: { seriesAddUp?: boolean } = {}): Gauge<T> {
    const labelNames = this.check('gauge', config);
    const { unit, ...rest } = config;
    const gauge = new Gauge<T>({ ...rest, registers: [] });
    this.adopt({ type: 'gauge', name: config.name, help: config.help, labelNames, metric: gauge, unit, seriesAddUp: options.seriesAddUp });
    return gauge;
  }

  histogram<T extends string>(config: InstrumentConfig<HistogramConfiguration<T>>): Histogram<T> {
    const labelNames = this.check('histogram', config);
    const { unit, ...rest } = config;
    const histogram = new Histogram<T>({ ...rest, registers: [] });
    const buckets = config.buckets ? [...config.buckets] : undefined;
    this.adopt({ type: 'histogram', name: config.name, help: config.help, labelNames, metric: histogram, buckets, unit });
    return histogram;
  }

  /** Raises the engine's errors (instead of prom-client's plain Error) for bad names. */
  private check(type: MetricType, config: { name: string; help: string; labelNames?: readonly string[]; unit?: string }): string[] {
    checkMetricName(config.name);
    checkDescription(config.help, 'help');
    if (config.unit !== undefined) checkUnit(config.unit);
    return checkLabelNames(config.labelNames ? [...config.labelNames] : undefined, RESERVED_LABEL[type]);
  }
}
