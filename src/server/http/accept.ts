/** The Accept header (RFC 9110 12.5.1): its media ranges, and how much a client wants a media type. */
import { quote } from '../pipeline/well-known.js';

/** `text` split at each `separator` that is not inside a quoted string. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

export interface MediaRange {
  /** Lower case, `*` for a wildcard. */
  type: string;
  subtype: string;
  q: number;
}

/**
 * The media ranges of an Accept header (RFC 9110 12.5.1), names in lower case as they compare, or
 * the reason it cannot be read. Parameters other than q are not compared: both versions of
 * OpenMetrics that scrapers ask for are read by the same parsers. A lone `*` is the full wildcard,
 * as Java's HTTP client sends it.
 */
export function mediaRanges(accept: string): MediaRange[] | string {
  const ranges: MediaRange[] = [];
  for (const element of splitOutsideQuotes(accept, ',')) {
    const [name = '', ...params] = splitOutsideQuotes(element, ';').map((s) => s.trim());
    const [type, subtype] = name === '*' ? ['*', '*'] : name.toLowerCase().split('/');
    if (type === undefined || subtype === undefined) continue; // names no media type
    let q = 1;
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'q') continue;
      const raw = param.slice(eq + 1).trim();
      q = /^(\d+(\.\d*)?|\.\d+)$/.test(raw) ? Number(raw) : NaN;
      if (!(q >= 0 && q <= 1)) return `accept: a q-value is a number from 0 to 1, got ${quote(raw, "'")}`;
      break; // what follows q are extensions, not media type parameters
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

/**
 * How much the client wants a media type: the q of the most specific range that matches it (the
 * type itself, then type/*, then the full wildcard), with that specificity (2, 1, 0); undefined
 * when no range matches.
 */
export function preference(ranges: MediaRange[], mediaType: string): { q: number; specificity: number } | undefined {
  const [type, subtype] = mediaType.split('/');
  let best: { q: number; specificity: number } | undefined;
  for (const r of ranges) {
    const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1;
    if (specificity < 0) continue;
    // Of equally specific ranges (the same type with other parameters) the most favourable counts.
    if (!best || specificity > best.specificity || (specificity === best.specificity && r.q > best.q)) best = { q: r.q, specificity };
  }
  return best;
}
