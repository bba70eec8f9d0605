/**
 * One scan of JSON request text for what JSON.parse reads without a word, done in one pass of our
 * own so that a large body is not parsed again:
 * - the first key that appears twice in one object, at any depth (JSON.parse keeps the last). This
 *   is the check protobuf-es makes in fromJsonString (`checkDuplicateKeys` in its from-json.js, not
 *   exported). Keys are compared as JSON.parse reads them, so `"a"` and `"\u0061"` are the same key;
 *   `__proto__` is a key like any other.
 * - how many number tokens a double may not hold as written: more than 15 digits (JSON.parse reads
 *   9007199254740993 as ...992, and 1.0000000000000001 as 1) or an exponent (1e-400 as 0). Only a
 *   count, so that a body of numbers costs no more than one of anything else: when there are some
 *   and the message type has an integer field, that field is read from the text again
 *   (json-number-text.ts).
 *
 * Only for text JSON.parse accepted: it assumes well-formed JSON (no validation here).
 */
import { QUOTE, BACKSLASH, COMMA, OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY, MINUS, PLUS, DOT, DIGIT_0, DIGIT_9, LOWER_E, UPPER_E } from './json-chars.js';

/** Keys an object holds before they are looked up in a Set: most objects have a few, and a scan of a few beats a Set each. */
const LINEAR_KEYS = 16;

/** Significant digits every double holds exactly: a token of no more, without an exponent, is read as written. */
const EXACT_DIGITS = 15;

/** Whether the quote at `at` is escaped: an odd number of backslashes before it. */
export function escaped(text: string, at: number): boolean {
  let i = at - 1;
  while (text.charCodeAt(i) === BACKSLASH) i--;
  return (at - 1 - i) % 2 === 1;
}

export interface JsonTextScan {
  duplicateKey?: string;
  /** Number tokens a double may not hold as written (0 when a duplicate key was found). */
  inexactNumbers: number;
}

/**
 * Where the number token at `start` ends, negated when a double may not hold it as written (more
 * than 15 digits, or an exponent). Reads the characters only: a body of numbers allocates nothing.
 */
export function numberTokenEnd(text: string, start: number): number {
  let digits = 0;
  let exponent = false;
  let i = start;
  for (; i < text.length; i++) {
    const d = text.charCodeAt(i);
    if (d >= DIGIT_0 && d <= DIGIT_9) digits++;
    else if (d === LOWER_E || d === UPPER_E) exponent = true;
    else if (d !== DOT && d !== MINUS && d !== PLUS) break;
  }
  // Most numbers are short: a double holds those of up to 15 digits without an exponent as written.
  return digits > EXACT_DIGITS || exponent ? -i : i;
}

export function scanJsonText(text: string): JsonTextScan {
  // The keys of every open object, innermost last; `starts` holds where each open object's keys
  // begin in `keys`, or -1 for an open array. An object past LINEAR_KEYS keys gets a Set too.
  const keys: string[] = [];
  const starts: number[] = [];
  const sets: Array<Set<string> | undefined> = [];
  let inexactNumbers = 0;
  let expectKey = false;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const open = i;
      // indexOf finds the closing quote far faster than a loop over the characters of a long value.
      let close = text.indexOf('"', open + 1);
      while (escaped(text, close)) close = text.indexOf('"', close + 1);
      i = close;
      if (!expectKey) continue;
      expectKey = false;
      const raw = text.slice(open + 1, close);
      const key = raw.includes('\\') ? (JSON.parse(text.slice(open, close + 1)) as string) : raw;
      const depth = starts.length - 1;
      const start = starts[depth]!;
      const set = sets[depth];
      if (set !== undefined) {
        if (set.has(key)) return { duplicateKey: key, inexactNumbers: 0 };
        set.add(key);
      } else {
        for (let k = start; k < keys.length; k++) if (keys[k] === key) return { duplicateKey: key, inexactNumbers: 0 };
        if (keys.length - start >= LINEAR_KEYS) sets[depth] = new Set(keys.slice(start)).add(key);
      }
      keys.push(key);
    } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
      const end = numberTokenEnd(text, i);
      if (end < 0) inexactNumbers++;
      i = Math.abs(end) - 1;
    } else if (c === OPEN_OBJECT) {
      starts.push(keys.length);
      sets.push(undefined);
      expectKey = true;
    } else if (c === OPEN_ARRAY) {
      starts.push(-1);
      sets.push(undefined);
      expectKey = false;
    } else if (c === COMMA) {
      const depth = starts.length - 1;
      expectKey = starts[depth] !== -1;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      const start = starts.pop()!;
      sets.pop();
      if (start !== -1) keys.length = start;
    }
  }
  return { inexactNumbers };
}
