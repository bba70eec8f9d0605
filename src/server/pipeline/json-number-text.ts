/**
 * Integers in JSON requests read from the digits the client sent. JSON.parse reads every number as a
 * double, so an unquoted 64-bit integer beyond 2^53 came out rounded (12345678901234567891 was
 * stored as 12345678901234567168), 2^64-1 was read as 2^64 and refused, and an error echoed digits
 * the client never sent. Proto3 JSON takes a number for a 64-bit field as well as a string; the
 * text scan (json-text-scan.ts) notes each number a double may not hold, and here, once the message
 * type is known, a 64-bit field gets it as its exact decimal string (which protobuf-es reads as a
 * BigInt, range checked); a double or float field keeps the number. Errors echo the client's text.
 */
import type { DescField, DescMessage, JsonValue } from '@bufbuild/protobuf';
import { holdsIntegers } from './json-integer-text.js';
import type { NumberToken } from './json-text-scan.js';
import { isJsonObject, type JsonObject } from './json-walk.js';
import { findJsonField, messageOf, reachesType } from './message-reach.js';

type Container = JsonObject | JsonValue[];

/** The numbers noted in each parsed request, by its top-level object: one entry per request, read in one pass. */
const noted = new WeakMap<Container, readonly NumberToken[]>();

const isContainer = (v: JsonValue | undefined): v is Container => v !== null && typeof v === 'object';

/** `holder[key]` as JSON.parse set it: an own `__proto__` key is a key like any other, and an inherited one none. */
const own = (holder: Container, key: string | number): JsonValue | undefined => (Object.hasOwn(holder, key) ? (holder as Record<string, JsonValue>)[key] : undefined);

/** Notes the numbers the scan found in the text `json` was parsed from. */
export function noteNumberTexts(json: JsonValue, tokens: readonly NumberToken[]): void {
  if (isContainer(json)) noted.set(json, tokens);
}

/**
 * The client's text of the number at `holder[key]` in the request `json`, when a double may not
 * hold it. For an error message: each noted number's holder is looked up again.
 */
export function numberText(json: JsonValue, holder: Container, key: string | number): string | undefined {
  const tokens = isContainer(json) ? noted.get(json) : undefined;
  for (const { path, text } of tokens ?? []) {
    if (String(path[path.length - 1]) !== String(key)) continue;
    let at: JsonValue | undefined = json;
    for (let i = 0; i < path.length - 1 && isContainer(at); i++) at = own(at, path[i]!);
    if (at === holder) return text;
  }
  return undefined;
}

/** Digits beyond which a number is no integer any field holds: its exact value is not worked out. */
const MAX_INTEGER_DIGITS = 40;
const NUMBER = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/;

/** The decimal integer a JSON number token is exactly, or undefined when it is a fraction (or far beyond any integer field). */
function exactInteger(token: string): string | undefined {
  const [, sign, whole, fraction = '', exponent = '0'] = NUMBER.exec(token) ?? [];
  if (whole === undefined) return undefined;
  let digits = (whole + fraction).replace(/^0+/, '');
  let shift = Number(exponent) - fraction.length;
  if (digits === '') return '0';
  if (shift < 0) {
    // Trailing zeros of the fraction (2.50e1 is 25).
    const zeros = Math.min(-shift, digits.length - digits.replace(/0+$/, '').length);
    digits = digits.slice(0, digits.length - zeros);
    shift += zeros;
  }
  if (shift < 0 || digits.length + shift > MAX_INTEGER_DIGITS) return undefined;
  return `${sign}${digits}${'0'.repeat(shift)}`;
}

/** A noted number in an integer field that is no integer (or far beyond any), as the client wrote it. */
export interface NotAnInteger {
  path: string;
  field: DescField;
  text: string;
}

/**
 * Gives each noted number in an integer field of `json` (a request of type `schema`) as its exact
 * decimal string, which protobuf-es reads for 32- and 64-bit fields alike and range checks. Returns
 * the first that is not an integer (1.0000000000000001, which protobuf-es would read as 1), for the
 * caller to refuse once the rest decodes.
 */
export function readNumberTexts(schema: DescMessage, json: JsonValue): NotAnInteger | undefined {
  const tokens = isContainer(json) ? noted.get(json) : undefined;
  if (!tokens || !reachesIntegers(schema)) return undefined;
  let first: NotAnInteger | undefined;
  for (const token of tokens) first ??= readToken(schema, json, token);
  return first;
}

const reachingIntegers = new WeakMap<DescMessage, boolean>();

/** Whether a message type has an integer field anywhere below it: a request of doubles has its numbers left as they are. */
function reachesIntegers(m: DescMessage): boolean {
  let reaches = reachingIntegers.get(m);
  if (reaches === undefined) reachingIntegers.set(m, (reaches = reachesType(m, (d) => !d.typeName.startsWith('google.protobuf.') && d.fields.some(holdsIntegers))));
  return reaches;
}

/** One noted number, its field found by following its path through `schema`. */
function readToken(schema: DescMessage, json: JsonValue, { path, text }: NumberToken): NotAnInteger | undefined {
  let message = schema;
  let holder: JsonValue = json;
  // The field path, as errors name it: field names, list indices and map keys.
  const names: string[] = [];
  for (let i = 0; i < path.length; ) {
    const key = path[i++]!;
    if (!isJsonObject(holder) || typeof key !== 'string') return undefined;
    const f = findJsonField(message, key);
    if (!f) return undefined;
    names.push(names.length > 0 ? `.${f.name}` : f.name);
    let itemHolder: Container = holder;
    let itemKey: string | number = key;
    if (f.fieldKind === 'list' || f.fieldKind === 'map') {
      // The number is an item of the list or a value of the map: anything else does not decode anyway.
      const items = own(holder, key);
      const item = path[i++];
      if (item === undefined || items === undefined || !(f.fieldKind === 'list' ? Array.isArray(items) : isJsonObject(items))) return undefined;
      names.push(f.fieldKind === 'list' ? `[${item}]` : `.${item}`);
      itemHolder = items as Container;
      itemKey = item;
    }
    if (i === path.length) return readInteger(f, itemHolder, itemKey, text, names);
    const of = messageOf(f);
    // Well-known types hold no integer fields a number is given to (their JSON is text).
    if (!of || of.typeName.startsWith('google.protobuf.')) return undefined;
    message = of;
    holder = own(itemHolder, itemKey) ?? null;
  }
  return undefined;
}

/** One noted number in field `f`: an integer field gets its exact digits; any other keeps the number. */
function readInteger(f: DescField, holder: Container, key: string | number, text: string, names: readonly string[]): NotAnInteger | undefined {
  if (!holdsIntegers(f)) return undefined;
  const exact = exactInteger(text);
  if (exact === undefined) return { path: names.join(''), field: f, text };
  Object.defineProperty(holder, key, { value: exact, writable: true, enumerable: true, configurable: true });
  return undefined;
}
