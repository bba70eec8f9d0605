/**
 * The first key that appears twice in one object of a JSON text, at any depth. JSON.parse keeps the
 * last of two equal keys without a word; this is the check protobuf-es makes in fromJsonString
 * (`checkDuplicateKeys` in its from-json.js, not exported), done in one pass of our own so that a
 * large body is not parsed again to run it.
 *
 * Only for text JSON.parse accepted: it assumes well-formed JSON (no validation here). Keys are
 * compared as JSON.parse reads them, so `"a"` and `"\u0061"` are the same key; `__proto__` is a key
 * like any other.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Keys an object holds before they are looked up in a Set: most objects have a few, and a scan of a few beats a Set each. */
const LINEAR_KEYS = 16;

/** Whether the quote at `at` is escaped: an odd number of backslashes before it. */
export function escaped(text: string, at: number): boolean {
  let i = at - 1;
  while (text.charCodeAt(i) === BACKSLASH) i--;
  return (at - 1 - i) % 2 === 1;
}

export function firstDuplicateKey(text: string): string | undefined {
  // The keys of every open object, innermost last; `starts` holds where each open object's keys
  // begin in `keys`, or -1 for an open array. An object past LINEAR_KEYS keys gets a Set too.
  const keys: string[] = [];
  const starts: number[] = [];
  const sets: Array<Set<string> | undefined> = [];
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
        if (set.has(key)) return key;
        set.add(key);
      } else {
        for (let k = start; k < keys.length; k++) if (keys[k] === key) return key;
        if (keys.length - start >= LINEAR_KEYS) sets[depth] = new Set(keys.slice(start)).add(key);
      }
      keys.push(key);
    } else if (c === OPEN_OBJECT) {
      starts.push(keys.length);
      sets.push(undefined);
      expectKey = true;
    } else if (c === OPEN_ARRAY) {
      starts.push(-1);
      sets.push(undefined);
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = starts[starts.length - 1] !== -1;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      const start = starts.pop()!;
      sets.pop();
      if (start !== -1) keys.length = start;
    }
  }
  return undefined;
}
