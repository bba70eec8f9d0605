/**
 * A JSON request as a request message, read strictly (an unknown key or enum name is an error),
 * for REST bodies and for Connect and gRPC-Web JSON alike. protobuf-es says what failed to decode
 * but not where; on failure the JSON is decoded field by field to name the field path
 * (`events[2].operation`) and, for enums and well-known types, the form that was expected.
 */
import { fromJson, ScalarType, type DescEnum, type DescField, type DescMessage, type JsonValue, type Message } from '@bufbuild/protobuf';
import { invalidArgument, type ObservabilityError } from '../../core/errors.js';
import { MAX_JSON_DEPTH, nestedDeeperThan } from './json-depth.js';
import { integerTextNotInteger } from './json-integer-text.js';
import { noteNumberTexts, numberText, readNumberTexts } from './json-number-text.js';
import { nullNumberError } from './json-null-numbers.js';
import { scanJsonText } from './json-text-scan.js';
import { fieldItems, isJsonObject, type JsonObject } from './json-walk.js';
import { findJsonField, messageOf, reachesType } from './message-reach.js';
import { calendarProblem, clip, DURATION_FORM, isDurationText, MAX_ECHO_CHARS, quote, showJson, TIMESTAMP_FORM, TIMESTAMP_RANGE } from './well-known.js';


function decodes(schema: DescMessage, json: JsonValue): boolean {
  try {
    fromJson(schema, json);
    return true;
  } catch {
    return false;
  }
}

function enumExpectation(e: DescEnum): string {
  return `must be one of ${e.values.filter((v) => v.number !== 0).map((v) => v.name).join(', ')} (${e.typeName})`;
}

const SCALAR_FORM: Record<ScalarType, string> = {
  [ScalarType.DOUBLE]: 'must be a number (or "NaN", "Infinity", "-Infinity")',
  [ScalarType.FLOAT]: 'must be a number within the float range',
  [ScalarType.INT64]: 'must be a 64-bit integer (a JSON number or a decimal string)',
  [ScalarType.UINT64]: 'must be an unsigned 64-bit integer (a JSON number or a decimal string)',
  [ScalarType.INT32]: 'must be a 32-bit integer (a JSON number, or one in quotes)',
  [ScalarType.FIXED64]: 'must be an unsigned 64-bit integer (a JSON number or a decimal string)',
  [ScalarType.FIXED32]: 'must be an unsigned 32-bit integer (a JSON number, or one in quotes)',
  [ScalarType.BOOL]: 'must be true or false',
  [ScalarType.STRING]: 'must be a string',
  [ScalarType.BYTES]: 'must be base64 text',
  [ScalarType.UINT32]: 'must be an unsigned 32-bit integer (a JSON number, or one in quotes)',
  [ScalarType.SFIXED32]: 'must be a 32-bit integer (a JSON number, or one in quotes)',
  [ScalarType.SFIXED64]: 'must be a 64-bit integer (a JSON number or a decimal string)',
  [ScalarType.SINT32]: 'must be a 32-bit integer (a JSON number, or one in quotes)',
  [ScalarType.SINT64]: 'must be a 64-bit integer (a JSON number or a decimal string)',
};

/** What a message type's JSON must look like, for the well-known types that are not objects. */
function messageExpectation(m: DescMessage): string {
  switch (m.typeName) {
    case 'google.protobuf.Timestamp':
      return `must be ${TIMESTAMP_FORM}, from ${TIMESTAMP_RANGE} (proto3 JSON for google.protobuf.Timestamp)`;
    case 'google.protobuf.Duration':
      return `must be ${DURATION_FORM}, within ±315576000000s (proto3 JSON for google.protobuf.Duration)`;
    default:
      return m.typeName.startsWith('google.protobuf.') ? `must be the proto3 JSON form of ${m.typeName}` : `must be a JSON object for ${m.typeName}`;
  }
}

/** What one value of field `f` (a single value, a list item or a map value) must look like. */
function valueExpectation(f: DescField): string | undefined {
  const kind = f.fieldKind === 'list' ? f.listKind : f.fieldKind === 'map' ? f.mapKind : f.fieldKind;
  switch (kind) {
    case 'scalar':
      return SCALAR_FORM[(f as { scalar: ScalarType }).scalar];
    case 'enum':
      return enumExpectation((f as { enum: DescEnum }).enum);
    case 'message':
      return messageExpectation((f as { message: DescMessage }).message);
    default:
      return undefined;
  }
}

const nested = (m: DescMessage) => !m.typeName.startsWith('google.protobuf.');

/** The request being decoded: `source` names it (the request body, or a Connect GET's `message`). */
interface Request {
  json: JsonValue;
  source: string;
}

/** A value of `request` as the client wrote it: a number a double may not hold in its own digits (json-number-text.ts). */
function shown(request: Request, value: JsonValue, holder: JsonObject | JsonValue[], key: string | number): string {
  // A number in an integer field was handed on as its digits (a string); one beyond a double's range is shown as read.
  const text = (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string' ? numberText(request.json, holder, key) : undefined;
  return text !== undefined ? clip(text) : showJson(value);
}

/** Path and reason of the first part of `json` that does not decode as `schema`; `path` is empty for the whole request. */
function locate(schema: DescMessage, json: JsonValue, path: string, request: Request): { path: string; reason?: string } {
  const where = path || request.source;
  if (!isJsonObject(json)) return { path: where, reason: `must be a JSON object for ${schema.typeName}, got ${showJson(json)}` };
  const seen = new Map<DescField, string>();
  const oneofs = new Map<string, string>();
  for (const [key, value] of Object.entries(json)) {
    const f = findJsonField(schema, key);
    const here = path ? `${path}.${f?.name ?? key}` : (f?.name ?? key);
    // The reason repeats the key, clipped; as the path, a long key is cut short.
    if (!f) return { path: key.length > MAX_ECHO_CHARS ? `${path ? `${path}.` : ''}${key.slice(0, MAX_ECHO_CHARS)}…` : here, reason: `key ${quote(key)} is unknown in ${schema.typeName}` };
    const before = seen.get(f);
    if (before !== undefined) return { path: here, reason: `set more than once (as "${before}" and "${key}")` };
    seen.set(f, key);
    if (f.oneof && value !== null) {
      const other = oneofs.get(f.oneof.name);
      if (other !== undefined) return { path: here, reason: `only one of the oneof ${f.oneof.name} may be set, got ${other} and ${f.name}` };
      oneofs.set(f.oneof.name, f.name);
    }
    if (decodes(schema, { [key]: value })) continue;
    if (f.fieldKind === 'message') {
      if (nested(f.message)) return locate(f.message, value, here, request);
      return { path: here, reason: `${valueExpectation(f)}, got ${shown(request, value, json, key)}` };
    }
    if (f.fieldKind === 'list') {
      if (!Array.isArray(value)) return { path: here, reason: `must be a JSON array, got ${shown(request, value, json, key)}` };
      for (let i = 0; i < value.length; i++) {
        const item = value[i]!;
        if (decodes(schema, { [key]: [item] })) continue;
        if (f.listKind === 'message' && nested(f.message)) return locate(f.message, item, `${here}[${i}]`, request);
        return { path: `${here}[${i}]`, reason: `${valueExpectation(f)}, got ${shown(request, item, value, i)}` };
      }
    }
    if (f.fieldKind === 'map') {
      if (!isJsonObject(value)) return { path: here, reason: `must be a JSON object (a map), got ${shown(request, value, json, key)}` };
      for (const [k, v] of Object.entries(value)) {
        if (decodes(schema, { [key]: { [k]: v } })) continue;
        const entry = `${here}.${k}`;
        if (!decodes(schema, { [key]: { [k]: valueSample(f) } })) return { path: entry, reason: `the key ${showJson(k)} is not a valid ${ScalarType[f.mapKey].toLowerCase()} map key` };
        if (f.mapKind === 'message' && nested(f.message)) return locate(f.message, v, entry, request);
        return { path: entry, reason: `${valueExpectation(f)}, got ${shown(request, v, value, k)}` };
      }
    }
    if (f.fieldKind === 'scalar' || f.fieldKind === 'enum') return { path: here, reason: `${valueExpectation(f)}, got ${shown(request, value, json, key)}` };
    return { path: here };
  }
  return { path: where };
}

/** A map value that decodes whatever the map's key, to tell a bad key from a bad value. */
function valueSample(f: DescField & { fieldKind: 'map' }): JsonValue {
  switch (f.mapKind) {
    case 'message':
      return nested(f.message) ? {} : null;
    case 'enum':
      return 0;
    case 'scalar':
      return f.scalar === ScalarType.STRING || f.scalar === ScalarType.BYTES ? '' : f.scalar === ScalarType.BOOL ? false : 0;
  }
}

/** The error for JSON that does not decode as `schema`: invalid_argument naming the field path. */
function decodeError(schema: DescMessage, json: JsonValue, error: unknown, source: string): ObservabilityError {
  const { path, reason } = locate(schema, json, '', { json, source });
  if (reason) return invalidArgument(path, reason);
  // Not found field by field (should not happen): protobuf-es's own words, without the type prefix.
  return invalidArgument(path, (error as Error).message.replace(/^cannot decode [^:]*: /, ''));
}

const TIMESTAMP = 'google.protobuf.Timestamp';
const DURATION = 'google.protobuf.Duration';
const holdsTimeText = new WeakMap<DescMessage, boolean>();

/** Whether a message type holds a Timestamp or Duration anywhere below it: most requests need no second look. */
function hasTimeText(m: DescMessage): boolean {
  let holds = holdsTimeText.get(m);
  if (holds === undefined) holdsTimeText.set(m, (holds = reachesType(m, (d) => d.typeName === TIMESTAMP || d.typeName === DURATION)));
  return holds;
}

/**
 * The first Timestamp or Duration in decoded `json` that protobuf-es read leniently, as an error
 * naming its path: a date Date.parse moved (2025-02-30), or a duration with more after its "s"
 * ("1sx"), of which protobuf-es reads only the start.
 */
function timeTextError(schema: DescMessage, json: JsonValue, path: string): ObservabilityError | undefined {
  if (!isJsonObject(json)) return undefined;
  for (const [key, value] of Object.entries(json)) {
    const f = findJsonField(schema, key);
    const of = f && messageOf(f);
    if (!of || value === null || !hasTimeText(of)) continue;
    for (const [where, item] of fieldItems(f, value, path ? `${path}.${f.name}` : f.name)) {
      if (typeof item !== 'string') {
        const nestedError = of.typeName === TIMESTAMP || of.typeName === DURATION ? undefined : timeTextError(of, item, where);
        if (nestedError) return nestedError;
        continue;
      }
      if (of.typeName === DURATION && !isDurationText(item)) return invalidArgument(where, `${messageExpectation(of)}, got ${showJson(item)}`);
      const problem = of.typeName === TIMESTAMP ? calendarProblem(item) : undefined;
      if (problem) return invalidArgument(where, `${problem}, got ${showJson(item)}`);
    }
  }
  return undefined;
}

/**
 * Decodes a parsed JSON request strictly; throws invalid_argument naming the field path, or
 * `source` for the request as a whole.
 */
export function messageFromJson(schema: DescMessage, json: JsonValue, source = 'request body'): Message {
  const notInteger = readNumberTexts(schema, json);
  let message: Message;
  try {
    message = fromJson(schema, json);
  } catch (error) {
    throw decodeError(schema, json, error, source);
  }
  if (notInteger) throw invalidArgument(notInteger.path, `${valueExpectation(notInteger.field)}, got ${clip(notInteger.text)}`);
  const impossible = (hasTimeText(schema) ? timeTextError(schema, json, '') : undefined) ?? nullNumberError(schema, json);
  if (impossible) throw impossible;
  const integer = integerTextNotInteger(schema, json);
  if (integer) throw invalidArgument(integer.path, `${valueExpectation(integer.field)}, got ${showJson(integer.text)}`);
  return message;
}

/**
 * JSON request text parsed, for REST bodies and Connect JSON alike. JSON.parse keeps the last of
 * two equal keys in an object, so `{"metric":"a","metric":"b"}` would be read as b without a word;
 * protobuf-es's reader (connect-node's) refuses it, and so is it refused here, at any depth, for
 * every protocol: one JSON.parse and one scan of the text (json-text-scan.ts), which also counts
 * the numbers a double may not hold; when there are some, the text is kept with the parsed value,
 * for integer fields to be read from their digits (json-number-text.ts). Text nested deeper than
 * any request needs is refused before it is parsed (json-depth.ts).
 */
export function parseJsonText(text: string, source = 'request body'): JsonValue {
  // Before JSON.parse, which would hold the event loop for seconds on a million levels.
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
    throw invalidArgument(source, `JSON nested deeper than ${MAX_JSON_DEPTH} levels of objects and arrays; no request of this service needs more than a few`);
  }
  let json: JsonValue;
  try {
    json = JSON.parse(text) as JsonValue;
  } catch (error) {
    throw invalidArgument(source, `not valid JSON (${(error as Error).message})`);
  }
  const { duplicateKey, inexactNumbers } = scanJsonText(text);
  if (duplicateKey !== undefined) throw invalidArgument(source, `duplicate object key ${quote(duplicateKey)}: a key may appear once in a JSON object`);
  if (inexactNumbers > 0) noteNumberTexts(json, text);
  return json;
}

/** Stateless as used here (whole messages, no streaming), so one serves every request. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON request bytes as text. Bytes that are not UTF-8 are refused (naming `source`), as binary
 * protobuf refuses them in a string: a lenient decoder would store each as U+FFFD without a word.
 */
export function jsonText(bytes: Uint8Array, source = 'request body', hint = ''): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    throw invalidArgument(source, `not UTF-8 text, so not JSON${hint}`);
  }
}

/**
 * Decodes JSON request text strictly; throws invalid_argument for text that is not JSON (naming
 * `source`: the request body, or a Connect GET's `message` parameter), or naming the field.
 */
export function messageFromJsonText(schema: DescMessage, text: string, source?: string): Message {
  return messageFromJson(schema, parseJsonText(text, source), source);
}
