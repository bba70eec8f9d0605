/**
 * One scan of JSON request text for what JSON.parse reads without a word, done in one pass of our
 * own so that a large body is not parsed again:
 * - the first key that appears twice in one object, at any depth (JSON.parse keeps the last). This
 *   is the check protobuf-es makes in fromJsonString (`checkDuplicateKeys` in its from-json.js, not
 *   exported). Keys are compared as JSON.parse reads them, so `"a"` and `"\u0061"` are the same key;
 *   `__proto__` is a key like any other.
 * - the number tokens a double may not hold exactly where an integer is read: integers beyond 2^53
 *   (JSON.parse reads 9007199254740993 as ...992), and fractions or exponents that a double rounds
 *   to an integer (1.0000000000000001 as 1), each with its text and where it is. An integer field is
 *   then read from the digits the client sent (json-number-text.ts).
 *
 * Only for text JSON.parse accepted: it assumes well-formed JSON (no validation here).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

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

/** A number token as the client wrote it, and where it is: the keys and array indices down to it. */
export interface NumberToken {
  path: Array<string | number>;
  text: string;
}

export interface JsonTextScan {
  duplicateKey?: string;
  /** Number tokens read as an integer that may not be the one written (none when a duplicate key was found). */
  inexactIntegers: NumberToken[];
}

/**
 * Whether JSON.parse may have read `token` as an integer other than the one written: an integer
 * beyond 2^53, or a fraction or exponent (`plain` false) read as an integer (1.0000000000000001 as
 * 1, 1e-400 as 0). A fraction read as one (0.30000000000000004) is left to the field: a double takes
 * it, an integer field refuses it. A number beyond a double's range (Infinity) is refused as such.
 */
function readInexactly(token: string, plain: boolean): boolean {
  const value = Number(token);
  return Number.isInteger(value) && (!Number.isSafeInteger(value) || !plain);
}

export function scanJsonText(text: string): JsonTextScan {
  // The keys of every open object, innermost last; `starts` holds where each open object's keys
  // begin in `keys`, or -1 for an open array. An object past LINEAR_KEYS keys gets a Set too.
  // `at` holds, for each open object or array, the key or index of the value being read.
  const keys: string[] = [];
  const starts: number[] = [];
  const sets: Array<Set<string> | undefined> = [];
  const at: Array<string | number> = [];
  const inexactIntegers: NumberToken[] = [];
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
        if (set.has(key)) return { duplicateKey: key, inexactIntegers: [] };
        set.add(key);
      } else {
        for (let k = start; k < keys.length; k++) if (keys[k] === key) return { duplicateKey: key, inexactIntegers: [] };
        if (keys.length - start >= LINEAR_KEYS) sets[depth] = new Set(keys.slice(start)).add(key);
      }
      keys.push(key);
      at[depth] = key;
    } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
      const open = i;
      let digits = 0;
      let fraction = false;
      let exponent = false;
      for (; i < length; i++) {
        const d = text.charCodeAt(i);
        if (d >= DIGIT_0 && d <= DIGIT_9) digits++;
        else if (d === DOT) fraction = true;
        else if (d === LOWER_E || d === UPPER_E) exponent = true;
        else if (d !== MINUS && d !== PLUS) break;
      }
      // Most numbers are short: a double holds those of up to 15 digits without an exponent as written.
      if ((digits > EXACT_DIGITS || exponent) && at.length > 0) {
        const token = text.slice(open, i);
        if (readInexactly(token, !fraction && !exponent)) inexactIntegers.push({ path: at.slice(), text: token });
      }
      i--;
    } else if (c === OPEN_OBJECT) {
      starts.push(keys.length);
      sets.push(undefined);
      at.push('');
      expectKey = true;
    } else if (c === OPEN_ARRAY) {
      starts.push(-1);
      sets.push(undefined);
      at.push(0);
      expectKey = false;
    } else if (c === COMMA) {
      const depth = starts.length - 1;
      expectKey = starts[depth] !== -1;
      if (!expectKey) at[depth] = (at[depth] as number) + 1;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      const start = starts.pop()!;
      sets.pop();
      at.pop();
      if (start !== -1) keys.length = start;
    }
  }
  return { inexactIntegers };
}
