/**
 * Prometheus naming rules and the names each metric occupies in an exposition.
 *
 * Counter naming: the canonical name of a counter always ends in `_total`, because that is the sample
 * name Prometheus stores and PromQL queries whichever format was scraped. Registering `requests` or
 * `requests_total` as a counter both give the metric `requests_total`; record/get/trend accept either.
 * The Prometheus text format shows `# TYPE requests_total counter` / `requests_total 5`; OpenMetrics shows
 * the family `# TYPE requests counter` with the sample `requests_total 5`.
 */
import { invalidArgument } from '../errors.js';
import type { MetricType } from './types.js';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const UNIT = /^[a-zA-Z0-9_]*$/;

const MAX_NAME_LENGTH = 200;
const MAX_DESCRIPTION_LENGTH = 1024;

/**
 * Whether `text` holds more than `max` characters (code points), as a client counts them: a
 * character beyond the Basic Multilingual Plane (an emoji) is two UTF-16 units, and `length`
 * refused such text at half its limit. Counts no further than needed.
 */
export function longerThan(text: string, max: number): boolean {
  if (text.length <= max) return false;
  if (text.length > 2 * max) return true;
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    if (++count > max) return true;
  }
  return false;
}
const MAX_UNIT_LENGTH = 64;
/** A label set has at most this many names (each adds a dimension to the series cap). */
const MAX_LABEL_NAMES = 16;

const COUNTER_SUFFIX = '_total';

export function checkMetricName(name: unknown, field = 'name'): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw invalidArgument(field, 'must not be empty');
  if (name.length > MAX_NAME_LENGTH) throw invalidArgument(field, `must be at most ${MAX_NAME_LENGTH} characters`);
  if (!METRIC_NAME.test(name)) {
    throw invalidArgument(field, `"${name}" is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)`);
  }
}

/**
 * Names Prometheus itself writes into the series space of every target it scrapes: `up` and the
 * `scrape_*` series of each scrape (scrape_duration_seconds, scrape_samples_scraped, ...), `ALERTS`
 * and `ALERTS_FOR_STATE` of its alerting rules; and every name beginning `__`, which Prometheus
 * reserves for itself. A metric of such a name would overwrite or mix with Prometheus's own series:
 * a never-recorded gauge `up` makes every healthy target read `up == 0`. User registrations only;
 * the service's own instruments are not checked (none uses these names).
 */
function reservedByPrometheus(name: string): string | undefined {
  if (name.startsWith('__')) return 'Prometheus keeps names beginning "__" for its internal use';
  if (name === 'up') return 'Prometheus writes "up" itself for every target it scrapes (1 if the scrape succeeded, else 0)';
  if (name.startsWith('scrape_')) {
    return 'Prometheus writes the scrape_* series itself for every scrape (scrape_duration_seconds, scrape_samples_scraped, ...)';
  }
  if (name === 'ALERTS' || name === 'ALERTS_FOR_STATE') return `Prometheus writes "${name}" itself for its alerting rules`;
  return undefined;
}

/**
 * A name a user may register: a Prometheus metric name none of whose exposed names (a counter's
 * family without `_total` too: a counter `up_total` is the OpenMetrics family `up`) is one that
 * Prometheus writes itself.
 */
export function checkUserMetricName(name: unknown, type: MetricType, field = 'name'): asserts name is string {
  checkMetricName(name, field);
  for (const exposed of exposedNames(type, canonicalName(type, name))) {
    const why = reservedByPrometheus(exposed);
    if (why === undefined) continue;
    const as = exposed === name ? '' : `a ${type} named so is exposed as "${exposed}", and `;
    throw invalidArgument(field, `"${name}" is reserved: ${as}${why}`);
  }
}

export function checkDescription(description: unknown, field = 'description'): asserts description is string {
  if (typeof description !== 'string' || description.trim().length === 0) {
    throw invalidArgument(field, 'must not be empty');
  }
  if (longerThan(description, MAX_DESCRIPTION_LENGTH)) {
    throw invalidArgument(field, `must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  }
}

export function checkUnit(unit: unknown, field = 'unit'): asserts unit is string {
  if (typeof unit !== 'string' || unit.length > MAX_UNIT_LENGTH || !UNIT.test(unit)) {
    throw invalidArgument(field, `must be at most ${MAX_UNIT_LENGTH} characters of [a-zA-Z0-9_]`);
  }
}

/** Checks label names; `reserved` is the label the metric type emits itself (`le`, `quantile`). */
export function checkLabelNames(labelNames: unknown, reserved: string | undefined, field = 'label_names'): string[] {
  if (labelNames === undefined) return [];
  if (!Array.isArray(labelNames)) throw invalidArgument(field, 'must be a list of label names');
  if (labelNames.length > MAX_LABEL_NAMES) throw invalidArgument(field, `at most ${MAX_LABEL_NAMES} label names`);
  const seen = new Set<string>();
  labelNames.forEach((label: unknown, i) => {
    const at = `${field}[${i}]`;
    if (typeof label !== 'string' || !LABEL_NAME.test(label)) {
      throw invalidArgument(at, `"${String(label)}" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)`);
    }
    if (label.startsWith('__')) throw invalidArgument(at, `"${label}": names starting with "__" are reserved`);
    if (label === reserved) throw invalidArgument(at, `"${label}" is reserved for this metric type`);
    if (seen.has(label)) throw invalidArgument(at, `"${label}" is repeated`);
    seen.add(label);
  });
  return [...labelNames] as string[];
}

/** The name a metric is known by: counters get the `_total` suffix. */
export function canonicalName(type: MetricType, name: string): string {
  return type === 'counter' && !name.endsWith(COUNTER_SUFFIX) ? name + COUNTER_SUFFIX : name;
}

/** The OpenMetrics family name: a counter without its `_total` suffix. */
export function familyName(type: MetricType, name: string): string {
  return type === 'counter' && name.endsWith(COUNTER_SUFFIX) ? name.slice(0, -COUNTER_SUFFIX.length) : name;
}

/**
 * Every family and sample name a metric puts in either exposition format, or may put there: OpenMetrics
 * reserves `<family>_created` for counters, histograms and summaries, and parsers refuse another
 * family of that name. Two metrics whose sets intersect would produce an ambiguous exposition (e.g.
 * a gauge `x_count` beside a histogram `x`, or a gauge `x_created` beside a counter `x`).
 */
export function exposedNames(type: MetricType, name: string): string[] {
  const family = familyName(type, name);
  switch (type) {
    case 'counter':
      return [family, family + COUNTER_SUFFIX, `${family}_created`];
    case 'gauge':
      return [name];
    case 'histogram':
      return [name, `${name}_bucket`, `${name}_sum`, `${name}_count`, `${name}_created`];
    case 'summary':
      return [name, `${name}_sum`, `${name}_count`, `${name}_created`];
  }
}
