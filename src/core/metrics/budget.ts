/**
 * The exposition budget of the custom metrics. The per-value caps (label names, label length,
 * buckets, series) each hold, but the exposition grows as their product: series x lines per series x
 * label bytes. The engine therefore also counts, over all custom metrics, the exposition lines
 * ("cells") and an upper bound of the exposition bytes, and refuses what would go beyond either.
 */
import type { Labels, MetricType } from './types.js';

/**
 * Bytes of one exposition line besides its metric name and user labels, at most: the `_bucket`
 * suffix, braces, `le="<bound>"` (a bound and a value each print in at most 24 characters), the
 * separating space and the newline.
 */
const LINE_OVERHEAD_BYTES = 72;
/** `# HELP ` and `# TYPE ` lines around the name, the longest type word and the newlines. */
const HEADER_OVERHEAD_BYTES = 32;

/** Exposition lines of one series: 1 for a counter or gauge, buckets + 3 (`+Inf`, `_sum`, `_count`) for a histogram, quantiles + 2 for a summary. */
export function seriesCells(type: MetricType, options: { buckets?: readonly number[]; quantiles?: readonly number[] }): number {
  switch (type) {
    case 'counter':
    case 'gauge':
      return 1;
    case 'histogram':
      return (options.buckets?.length ?? 0) + 3;
    case 'summary':
      return (options.quantiles?.length ?? 0) + 2;
  }
}

/** Upper bound of the exposition bytes of one series: every line repeats the name and the labels. */
export function seriesBytes(name: string, labels: Labels, cells: number): number {
  let labelBytes = 0;
  // Label names are ASCII; each label prints as name="value", with a separating comma.
  for (const [label, value] of Object.entries(labels)) labelBytes += label.length + 4 + escapedBytes(value);
  return cells * (name.length + LINE_OVERHEAD_BYTES + labelBytes);
}

/** Upper bound of the bytes of a metric's `# HELP` and `# TYPE` lines. */
export function headerBytes(name: string, description: string): number {
  return 2 * name.length + escapedBytes(description) + HEADER_OVERHEAD_BYTES;
}

/** UTF-8 bytes once escaped: `\`, `"` and newline each take one more byte. */
function escapedBytes(text: string): number {
  let escapes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c || c === 0x22 || c === 0x0a) escapes += 1;
  }
  return Buffer.byteLength(text, 'utf8') + escapes;
}
