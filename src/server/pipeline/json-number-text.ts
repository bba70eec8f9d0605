/**
 * Integers in JSON requests read from the digits the client sent. JSON.parse reads every number as a
 * double, so an unquoted 64-bit integer beyond 2^53 came out rounded (12345678901234567891 was
 * stored as 12345678901234567168), 2^64-1 was read as 2^64 and refused, a fraction a double rounds
 * to an integer (1.0000000000000001) was read as that integer, and an error echoed digits the
 * client never sent. Proto3 JSON takes a number for a 64-bit field as well as a string.
 *
 * The text scan (json-text-scan.ts) only counts the numbers a double may not hold as written, so a
 * body of numbers costs no more than any other. When there are some and the message type has an
 * integer or enum field, the text is read again here alongside the message type and the parsed
 * value, skipping whatever holds no such field: a number landing in a 64-bit field a double does
 * not hold gets its exact decimal string (which protobuf-es reads as a BigInt, range checked), one
 * that is no integer is refused in the client's text; a number anywhere else is not looked at, and
 * nothing is allocated for it.
 */
import { ScalarType, type DescField, type DescMessage, type JsonValue } from '@bufbuild/protobuf';
import { exactInteger, holdsIntegers, MAX_INTEGER_DIGITS } from './json-integer-text.js';
import { escaped, numberTokenEnd } from './json-text-scan.js';
import { isJsonObject, type JsonObject } from './json-walk.js';
import { findJsonField, messageOf, reachesType } from './message-reach.js';
import { QUOTE, COMMA, OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY, MINUS, PLUS, DOT, DIGIT_0, DIGIT_9 } from './json-chars.js';

type Container = JsonObject | JsonValue[];

/** The text each parsed request was read from, by its top-level value, when it holds numbers a double may not hold. */
const noted = new WeakMap<Container, string>();

const isContainer = (v: JsonValue | undefined): v is Container => v !== null && typeof v === 'object';

/** `holder[key]` as JSON.parse set it: an own `__proto__` key is a key like any other, and an inherited one none. */
const own = (holder: Container, key: string | number): JsonValue | undefined => (Object.hasOwn(holder, key) ? (holder as Record<string, JsonValue>)[key] : undefined);

/** Notes the text `json` was parsed from, which holds numbers a double may not hold as written. */
export function noteNumberTexts(json: JsonValue, text: string): void {
  if (isContainer(json)) noted.set(json, text);
}

const isNumberStart = (c: number) => c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9);

/** A reader of JSON text JSON.parse accepted (no validation here), one value after another. */
class Cursor {
  i = 0;
  constructor(readonly text: string) {}

  /** The next character after white space, not consumed. */
  peek(): number {
    let c = this.text.charCodeAt(this.i);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = this.text.charCodeAt(++this.i);
    return c;
  }

  /** Past the string whose opening quote is at `i`. */
  private skipString(): void {
    let close = this.text.indexOf('"', this.i + 1);
    while (escaped(this.text, close)) close = this.text.indexOf('"', close + 1);
    this.i = close + 1;
  }

  /** An object's key, as JSON.parse reads it, and the colon after it. */
  key(): string {
    this.peek();
    const open = this.i;
    this.skipString();
    const close = this.i;
    this.peek();
    this.i++;
    const raw = this.text.slice(open + 1, close - 1);
    return raw.includes('\\') ? (JSON.parse(this.text.slice(open, close)) as string) : raw;
  }

  /** Past one value, allocating nothing. */
  skip(): void {
    const c = this.peek();
    if (c === QUOTE) return this.skipString();
    if (c !== OPEN_OBJECT && c !== OPEN_ARRAY) {
      for (let d = c; d !== COMMA && d !== CLOSE_OBJECT && d !== CLOSE_ARRAY && d !== 0x20 && d !== 0x0a && d !== 0x0d && d !== 0x09 && this.i < this.text.length; ) {
        d = this.text.charCodeAt(++this.i);
      }
      return;
    }
    let depth = 0;
    do {
      const d = this.text.charCodeAt(this.i);
      if (d === QUOTE) {
        this.skipString();
        continue;
      }
      if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++;
      else if (d === CLOSE_OBJECT || d === CLOSE_ARRAY) depth--;
      this.i++;
    } while (depth > 0);
  }

  /** Into the object or array at `i`: false when it is empty (and then past it). */
  open(): boolean {
    this.i++;
    const c = this.peek();
    if (c !== CLOSE_OBJECT && c !== CLOSE_ARRAY) return true;
    this.i++;
    return false;
  }

  /** Past the comma after a member or item (true), or the bracket that closes them (false). */
  next(): boolean {
    const c = this.peek();
    this.i++;
    return c === COMMA;
  }
}

/**
 * How many digits the integer a number token (text from `start` to `end`) is exactly has, or -1 when
 * it is no integer: 2.50e1 has 2, 1.0000000000000001 and 1e-400 none. Reads the characters only.
 */
function integerDigits(text: string, start: number, end: number): number {
  let i = text.charCodeAt(start) === MINUS ? start + 1 : start;
  // From the first digit that is not 0 on: how many, and how many zeros end them.
  let significant = 0;
  let trailingZeros = 0;
  let fraction = 0;
  let point = false;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT) point = true;
    else if (c < DIGIT_0 || c > DIGIT_9) break;
    else {
      if (point) fraction++;
      if (significant > 0 || c !== DIGIT_0) {
        significant++;
        trailingZeros = c === DIGIT_0 ? trailingZeros + 1 : 0;
      }
    }
  }
  let exponent = 0;
  if (i < end) {
    const sign = text.charCodeAt(++i);
    if (sign === MINUS || sign === PLUS) i++;
    // Capped: beyond, the number is far past any integer field, or far below 1.
    for (; i < end; i++) exponent = Math.min(exponent * 10 + text.charCodeAt(i) - DIGIT_0, 1e9);
    if (sign === MINUS) exponent = -exponent;
  }
  if (significant === 0) return 1;
  const shift = exponent - fraction + trailingZeros;
  return shift < 0 ? -1 : significant - trailingZeros + shift;
}

/** The client's text of the number at `holder[key]` in `value`; undefined when it is another value; null when `holder` is not in `value`. */
function tokenOf(cursor: Cursor, value: JsonValue | undefined, holder: Container, key: string | number): string | undefined | null {
  const open = cursor.peek();
  if ((open !== OPEN_OBJECT && open !== OPEN_ARRAY) || !isContainer(value)) {
    cursor.skip();
    return null;
  }
  if (!cursor.open()) return null;
  let index = 0;
  do {
    const k = open === OPEN_OBJECT ? cursor.key() : index++;
    if (value === holder && String(k) === String(key)) {
      const start = cursor.peek();
      const at = cursor.i;
      cursor.skip();
      return isNumberStart(start) ? cursor.text.slice(at, cursor.i) : undefined;
    }
    const found = tokenOf(cursor, own(value, k), holder, key);
    if (found !== null) return found;
  } while (cursor.next());
  return null;
}

/**
 * The client's text of the number at `holder[key]` in the request `json`, when a double may not
 * hold it (or it was handed on as its digits). For an error message: the text is read again.
 */
export function numberText(json: JsonValue, holder: Container, key: string | number): string | undefined {
  const text = isContainer(json) ? noted.get(json) : undefined;
  return text === undefined ? undefined : (tokenOf(new Cursor(text), json, holder, key) ?? undefined);
}

/** A number in an integer or enum field that is no integer (or far beyond any), as the client wrote it. */
export interface NotAnInteger {
  path: string;
  field: DescField;
  text: string;
}

/** Whether a field's values are integers: an integer field's, or an enum's numbers. */
function readsIntegers(f: DescField): boolean {
  return holdsIntegers(f) || f.fieldKind === 'enum' || (f.fieldKind === 'list' && f.listKind === 'enum') || (f.fieldKind === 'map' && f.mapKind === 'enum');
}

const WIDE: ReadonlySet<ScalarType> = new Set([ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64]);

/** Whether a field's values are 64-bit integers, which may lie beyond 2^53. (A 32-bit one beyond is out of its range anyway.) */
const wide = (f: DescField) => holdsIntegers(f) && WIDE.has((f as { scalar: ScalarType }).scalar);

const reachingIntegers = new WeakMap<DescMessage, boolean>();

/** Whether a message type has an integer or enum field anywhere below it: a request of doubles has its numbers left as they are. */
function reachesIntegers(m: DescMessage): boolean {
  let reaches = reachingIntegers.get(m);
  if (reaches === undefined) reachingIntegers.set(m, (reaches = reachesType(m, (d) => !d.typeName.startsWith('google.protobuf.') && d.fields.some(readsIntegers))));
  return reaches;
}

/** The message type below a field worth reading, if any (well-known types hold no integer a number is given to: their JSON is text). */
function messageBelow(f: DescField): DescMessage | undefined {
  const of = messageOf(f);
  return of && !of.typeName.startsWith('google.protobuf.') && reachesIntegers(of) ? of : undefined;
}

/** The request's text read a second time, alongside its message type and the value JSON.parse made of it. */
class NumberReader {
  /** Where the value being read is, for an error: fields, list indices and map keys (strings). */
  private readonly trail: Array<DescField | number | string> = [];
  first: NotAnInteger | undefined;

  constructor(private readonly cursor: Cursor) {}

  message(m: DescMessage, holder: JsonValue | undefined): void {
    const cursor = this.cursor;
    if (cursor.peek() !== OPEN_OBJECT || !isJsonObject(holder ?? null)) return cursor.skip();
    if (!cursor.open()) return;
    do {
      const key = cursor.key();
      const f = findJsonField(m, key);
      if (f === undefined || (!readsIntegers(f) && messageBelow(f) === undefined)) {
        cursor.skip();
        continue;
      }
      this.trail.push(f);
      this.field(f, holder as JsonObject, key);
      this.trail.pop();
    } while (cursor.next());
  }

  /** Field `f`'s value, `holder[key]`: a list's items and a map's values each, or the value itself. */
  private field(f: DescField, holder: JsonObject, key: string): void {
    const cursor = this.cursor;
    const value = own(holder, key);
    const c = cursor.peek();
    const items = f.fieldKind === 'list' && c === OPEN_ARRAY && Array.isArray(value);
    if (!items && !(f.fieldKind === 'map' && c === OPEN_OBJECT && isJsonObject(value ?? null))) return this.item(f, holder, key);
    if (!cursor.open()) return;
    const at = this.trail.push(0) - 1;
    let index = 0;
    do {
      const k = items ? index++ : cursor.key();
      this.trail[at] = k;
      this.item(f, value as Container, k);
    } while (cursor.next());
    this.trail.pop();
  }

  /** One value of field `f`, `holder[key]`. */
  private item(f: DescField, holder: Container, key: string | number): void {
    const cursor = this.cursor;
    const c = cursor.peek();
    if (isNumberStart(c) && readsIntegers(f)) return this.number(f, holder, key);
    const below = c === OPEN_OBJECT ? messageBelow(f) : undefined;
    if (below) return this.message(below, own(holder, key));
    cursor.skip();
  }

  /** A number in an integer or enum field: one a double holds as written is left as it is. */
  private number(f: DescField, holder: Container, key: string | number): void {
    const cursor = this.cursor;
    const start = cursor.i;
    const end = numberTokenEnd(cursor.text, start);
    cursor.i = Math.abs(end);
    if (end > 0) return;
    const digits = integerDigits(cursor.text, start, -end);
    if (digits < 0 || digits > MAX_INTEGER_DIGITS) {
      this.first ??= { path: this.path(), field: f, text: cursor.text.slice(start, -end) };
      return;
    }
    // A double holds every integer up to 2^53 exactly; a 32-bit field refuses one beyond as out of range.
    if (wide(f) && !Number.isSafeInteger(own(holder, key))) (holder as Record<string, JsonValue>)[key] = exactInteger(cursor.text.slice(start, -end))!;
  }

  /** The field path of the value being read, as errors name it. */
  private path(): string {
    let path = '';
    for (const part of this.trail) {
      if (typeof part === 'number') path += `[${part}]`;
      else if (typeof part === 'string') path += `.${part}`;
      else path += path ? `.${part.name}` : part.name;
    }
    return path;
  }
}

/**
 * Gives each number a double may not hold in a 64-bit field of `json` (a request of type `schema`)
 * as its exact decimal string, which protobuf-es reads and range checks. Returns the first number
 * in an integer or enum field that is no integer (1.0000000000000001, which protobuf-es would read
 * as 1), for the caller to refuse once the rest decodes.
 */
export function readNumberTexts(schema: DescMessage, json: JsonValue): NotAnInteger | undefined {
  const text = isContainer(json) ? noted.get(json) : undefined;
  if (text === undefined || !reachesIntegers(schema)) return undefined;
  const reader = new NumberReader(new Cursor(text));
  reader.message(schema, json);
  return reader.first;
}
