/** Label sets of recorded values: exact matching against the registered names, and series identity. */
import { invalidArgument } from '../errors.js';
import { longerThan } from './names.js';
import type { Labels } from './types.js';

/** Long label values would let a capped number of series still take unbounded memory. */
const MAX_LABEL_VALUE_LENGTH = 1024;

/** Checks that `labels` names exactly the registered label names, with string values. Returns a copy. */
export function checkLabels(labelNames: readonly string[], labels: unknown, field: string): Labels {
  const given = labels ?? {};
  if (typeof given !== 'object' || Array.isArray(given)) throw invalidArgument(field, 'must be a map of label values');
  const entries = Object.entries(given as Record<string, unknown>);
  for (const [name, value] of entries) {
    if (!labelNames.includes(name)) {
      const known = labelNames.length ? labelNames.join(', ') : 'none';
      throw invalidArgument(field, `unknown label "${name}" (registered labels: ${known})`);
    }
    if (typeof value !== 'string') throw invalidArgument(field, `label "${name}" must be a string`);
    if (longerThan(value, MAX_LABEL_VALUE_LENGTH)) {
      throw invalidArgument(field, `label "${name}" is longer than ${MAX_LABEL_VALUE_LENGTH} characters`);
    }
  }
  for (const name of labelNames) {
    if (!Object.prototype.hasOwnProperty.call(given, name)) throw invalidArgument(field, `missing label "${name}"`);
  }
  return Object.fromEntries(labelNames.map((name) => [name, (given as Labels)[name]]));
}

/** Unambiguous identity of a label set (independent of key order). */
export function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).sort().map((name) => [name, labels[name]]));
}

/**
 * The key prom-client files a series under: `name:value,` per label, unescaped. Label values
 * containing `,` or `:` can therefore map two different label sets onto one prom-client series; the
 * engine compares this key with `seriesKey` to refuse such a label set instead of merging series.
 */
export function promClientSeriesHash(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((name) => `${name}:${labels[name]},`)
    .join('');
}

/** Label values as prom-client reports them (numbers for `le`/`quantile`), as strings, minus `omit`. */
export function plainLabels(labels: Record<string, string | number | undefined>, omit?: string): Labels {
  const out: Labels = {};
  for (const [name, value] of Object.entries(labels)) {
    if (name !== omit && value !== undefined) out[name] = String(value);
  }
  return out;
}
