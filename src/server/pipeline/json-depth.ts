/**
 * How deep JSON request text nests, told before JSON.parse reads it. V8's JSON.parse takes over a
 * second on 2 MB of `[` (a million levels), during which the service answers nothing else; no
 * request of the contracts nests more than a few levels (a list of messages in a message), so a
 * bound far above that costs no client anything and is checked in one pass of the text.
 */
import { escaped } from './json-text-scan.js';
import { QUOTE, OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY } from './json-chars.js';

/** The deepest nesting of objects and arrays a request's JSON may have. */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `text` holds more than `max` opening brackets, strings included: if not, it cannot nest
 * deeper, and a body of long strings (of escapes, say) is not scanned quote by quote.
 */
function opensMoreThan(text: string, max: number): boolean {
  let count = 0;
  for (const bracket of ['{', '[']) {
    for (let i = text.indexOf(bracket); i !== -1; i = text.indexOf(bracket, i + 1)) if (++count > max) return true;
  }
  return false;
}

/**
 * Whether `text` opens more than `max` objects and arrays inside one another (brackets in strings
 * are not counted). Text that is not JSON may be counted wrong, but JSON.parse then refuses it
 * where it goes wrong, which it finds quickly.
 */
export function nestedDeeperThan(text: string, max: number): boolean {
  if (!opensMoreThan(text, max)) return false;
  let depth = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // indexOf skips a long string far faster than a loop over its characters.
      let close = text.indexOf('"', i + 1);
      while (close !== -1 && escaped(text, close)) close = text.indexOf('"', close + 1);
      if (close === -1) return false; // an unterminated string: not JSON
      i = close;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}
