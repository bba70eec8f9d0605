/**
 * Reads URL query parameters into a request message by the message's own field names:
 * `limit=5`, `since=2025-12-31T00:00:00Z` (RFC 3339 only), `window=3600s` (or `3600`, `1h`), `labels.method=GET`,
 * `config.min_samples=10`, repeated parameters for repeated fields. Enum values are accepted in
 * proto form, in short forms (`latency_spike`, `LatencySpike`, `high`, `High`) and as numbers.
 * An integer or enum number is read as proto3 JSON reads one in quotes, so that a value means the
 * same in a query as in a JSON body.
 */
import {
  create,
  fromJson,
  protoInt64,
  ScalarType,
  type DescEnum,
  type DescField,
  type DescMessage,
  type Message,
} from '@bufbuild/protobuf';
import { DurationSchema, TimestampSchema, type Duration, type Timestamp } from '@bufbuild/protobuf/wkt';
import { invalidArgument } from '../../core/errors.js';
import { exactInteger } from '../pipeline/json-integer-text.js';
import { calendarProblem, clip, quote, MAX_DURATION_SECONDS, TIMESTAMP_FORM, TIMESTAMP_RANGE } from '../pipeline/well-known.js';

type Fields = Record<string, unknown>;

export function findField(schema: DescMessage, name: string): DescField | undefined {
  return schema.fields.find((f) => f.name === name || f.jsonName === name);
}

function normaliseEnumName(s: string): string {
  return s.replace(/[^a-zA-Z0-9]/g, '').toLowerCase();
}

/** A 64-bit integer in quotes, which proto3 JSON (protobuf-es) takes as decimal digits only. */
const DIGITS = /^-?[0-9]+$/;

/**
 * A 32-bit integer from its text, as JSON reads one in quotes (`1e2` and `2.0` too); undefined when
 * it is none from min to max. Exactly an integer: a double would read `1.0000000000000001` as 1.
 */
function int32Text(raw: string, min: number, max: number): number | undefined {
  // As proto3 JSON takes it in quotes (pipeline/json-integer-text.ts): a JSON number, leading zeros allowed.
  const exact = exactInteger(raw);
  const n = Number(exact);
  return exact !== undefined && n >= min && n <= max ? n : undefined;
}

/** A 64-bit integer from its text, decimal digits; undefined when `parse` finds it out of range (or negative). */
function int64Text(raw: string, parse: (text: string) => bigint | string): bigint | string | undefined {
  if (!DIGITS.test(raw)) return undefined;
  try {
    return parse(raw);
  } catch {
    return undefined;
  }
}

/**
 * An enum value from its proto name, its name without the enum's prefix, that name in another
 * case, or its number. A number is taken as JSON takes it, whether the enum defines it or not: the
 * service refuses one it does not define, with the same message for a query as for JSON.
 */
function parseEnumValue(desc: DescEnum, raw: string, field: string): number {
  const number = int32Text(raw, -(2 ** 31), 2 ** 31 - 1);
  if (number !== undefined) return number;
  const wanted = normaliseEnumName(raw);
  for (const value of desc.values) {
    if (value.name === raw || normaliseEnumName(value.localName) === wanted || normaliseEnumName(value.name) === wanted) {
      return value.number;
    }
  }
  const choices = desc.values.filter((v) => v.number !== 0).map((v) => v.localName.toLowerCase());
  throw invalidArgument(field, `unknown value '${raw}'; expected one of ${choices.join(', ')}`);
}

function parseScalar(type: ScalarType, raw: string, field: string): unknown {
  switch (type) {
    case ScalarType.STRING:
      return raw;
    case ScalarType.BOOL:
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw invalidArgument(field, `must be true or false, got '${raw}'`);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT: {
      const n = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(n)) throw invalidArgument(field, `must be a finite number, got '${raw}'`);
      return n;
    }
    // The JSON errors' words, without their '(a JSON number, or one in quotes)', which a query is not.
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32: {
      const n = int32Text(raw, -(2 ** 31), 2 ** 31 - 1);
      if (n === undefined) throw invalidArgument(field, `must be a 32-bit integer, got ${quote(raw, "'")}`);
      return n;
    }
    case ScalarType.UINT32:
    case ScalarType.FIXED32: {
      const n = int32Text(raw, 0, 2 ** 32 - 1);
      if (n === undefined) throw invalidArgument(field, `must be an unsigned 32-bit integer, got ${quote(raw, "'")}`);
      return n;
    }
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64: {
      const n = int64Text(raw, (text) => protoInt64.parse(text));
      if (n === undefined) throw invalidArgument(field, `must be a 64-bit integer, got ${quote(raw, "'")}`);
      return n;
    }
    case ScalarType.UINT64:
    case ScalarType.FIXED64: {
      const n = int64Text(raw, (text) => protoInt64.uParse(text));
      if (n === undefined) throw invalidArgument(field, `must be an unsigned 64-bit integer, got ${quote(raw, "'")}`);
      return n;
    }
    case ScalarType.BYTES:
      return new Uint8Array(Buffer.from(raw, 'base64'));
  }
}

/** Nanoseconds per unit of a duration parameter. */
const DURATION_UNIT_NANOS: Record<string, bigint> = { ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n, d: 86_400_000_000_000n };

/**
 * A timestamp parameter in its proto3 JSON form, RFC 3339 (a `+` of an offset that the query
 * string turned into a space is taken back). A bare number is refused: `since=2030` could be
 * the year or Unix seconds, and the two are 60 years apart.
 */
function parseTimestamp(raw: string, field: string): Timestamp {
  const text = raw.replace(/ (\d{2}:\d{2})$/, '+$1');
  if (/^[+-]?\d+(\.\d*)?$/.test(text)) {
    throw invalidArgument(field, `must be ${TIMESTAMP_FORM}, got ${quote(raw, "'")} (a bare number is not taken as a year or as Unix seconds)`);
  }
  let timestamp: Timestamp;
  try {
    timestamp = fromJson(TimestampSchema, text);
  } catch (error) {
    const outOfRange = /must be from/.test((error as Error).message);
    throw invalidArgument(field, outOfRange ? `must be from ${TIMESTAMP_RANGE}, got ${quote(raw, "'")}` : `must be ${TIMESTAMP_FORM}, got ${quote(raw, "'")}`);
  }
  const problem = calendarProblem(text);
  if (problem) throw invalidArgument(field, `${problem}, got ${quote(raw, "'")}`);
  return timestamp;
}

/**
 * A duration parameter: a number with an optional unit (ms, s, m, h, d; seconds by default), exact
 * to the nanosecond. White space around it is refused, as within it (`5 s`) and in JSON (`" 5s"`).
 */
function parseDuration(raw: string, field: string): Duration {
  const m = /^(\d+)(?:\.(\d+))?(ms|s|m|h|d)?$/.exec(raw);
  if (!m) throw invalidArgument(field, `must be a duration such as 30s, 5m or 3600, got ${quote(raw, "'")}`);
  const unit = DURATION_UNIT_NANOS[m[3] ?? 's']!;
  const fraction = (m[2] ?? '').slice(0, 15);
  const nanos = BigInt(m[1]!) * unit + (BigInt(fraction || '0') * unit) / 10n ** BigInt(fraction.length);
  const seconds = nanos / 1_000_000_000n;
  if (seconds > BigInt(MAX_DURATION_SECONDS)) {
    throw invalidArgument(field, `must be at most ${MAX_DURATION_SECONDS}s (about 10,000 years), got ${quote(raw, "'")}`);
  }
  return create(DurationSchema, { seconds, nanos: Number(nanos % 1_000_000_000n) });
}

function parseMessageValue(schema: DescMessage, raw: string, field: string): Message {
  if (schema.typeName === TimestampSchema.typeName) return parseTimestamp(raw, field);
  if (schema.typeName === DurationSchema.typeName) return parseDuration(raw, field);
  throw invalidArgument(field, 'cannot be given as a query parameter');
}

function fieldValue(f: DescField & { fieldKind: 'scalar' | 'enum' | 'message' }, raw: string, path: string): unknown {
  if (f.fieldKind === 'scalar') return parseScalar(f.scalar, raw, path);
  if (f.fieldKind === 'enum') return parseEnumValue(f.enum, raw, path);
  return parseMessageValue(f.message, raw, path);
}

/** Sets one `a.b.c=value` parameter on a message. */
function setParameter(message: Fields, schema: DescMessage, parts: string[], raw: string, prefix: string): void {
  const name = parts[0]!;
  // The client's own words, echoed in errors: clipped as any other input.
  const path = clip(prefix ? `${prefix}.${name}` : name);
  const f = findField(schema, name);
  if (!f) throw invalidArgument(path, 'unknown query parameter');
  const rest = parts.slice(1);
  switch (f.fieldKind) {
    case 'map': {
      if (rest.length !== 1) throw invalidArgument(path, `give map entries as ${path}.KEY=VALUE`);
      if (f.mapKey !== ScalarType.STRING) throw invalidArgument(path, 'cannot be given as a query parameter');
      const entryPath = clip(`${path}.${rest[0]}`);
      const value =
        f.mapKind === 'scalar' ? parseScalar(f.scalar, raw, entryPath) : f.mapKind === 'enum' ? parseEnumValue(f.enum, raw, entryPath) : parseMessageValue(f.message, raw, entryPath);
      // Defined, not assigned: assigned, `labels.__proto__=a` would set the map's prototype and
      // be dropped without a word, where any other key is an entry (and checked as one).
      Object.defineProperty(message[f.localName] as Fields, rest[0]!, { value, enumerable: true, writable: true, configurable: true });
      return;
    }
    case 'list': {
      if (rest.length > 0) throw invalidArgument(path, 'repeated fields take plain values');
      const value =
        f.listKind === 'scalar' ? parseScalar(f.scalar, raw, path) : f.listKind === 'enum' ? parseEnumValue(f.enum, raw, path) : parseMessageValue(f.message, raw, path);
      (message[f.localName] as unknown[]).push(value);
      return;
    }
    case 'message':
      if (rest.length > 0 && !f.message.typeName.startsWith('google.protobuf.')) {
        const child = (message[f.localName] as Fields | undefined) ?? (create(f.message) as unknown as Fields);
        message[f.localName] = child;
        setParameter(child, f.message, rest, raw, path);
        return;
      }
      break;
  }
  if (rest.length > 0) throw invalidArgument(path, 'has no sub-fields');
  // `metric=` would filter on nothing and list everything: unset is leaving the parameter out. (A
  // map's value may be empty: `labels.disk=` selects the series whose disk label is empty.)
  if (raw === '' && f.fieldKind === 'scalar' && f.scalar === ScalarType.STRING) {
    throw invalidArgument(path, 'is given empty; leave the parameter out to set none');
  }
  if (f.oneof) message[f.oneof.localName] = { case: f.localName, value: fieldValue(f as never, raw, path) };
  else message[f.localName] = fieldValue(f as never, raw, path);
}

/** The request message of `query`, the parameters queryParameters (query-text.ts) decoded. */
export function messageFromQuery(schema: DescMessage, query: Iterable<[string, string]>): Message {
  const message = create(schema) as unknown as Fields;
  const seen = new Set<string>();
  for (const [key, raw] of query) {
    const [name] = key.split('.');
    // `?=1` or `?.a=1`: a name to echo would be empty, so the error says what is missing.
    if (key === '') throw invalidArgument('query', 'a parameter with an empty name');
    if (name === '') throw invalidArgument('query', `a parameter name that begins with a dot, ${quote(key)}`);
    const f = findField(schema, name!);
    if (seen.has(key) && f?.fieldKind !== 'list') throw invalidArgument(clip(key), 'given more than once');
    seen.add(key);
    setParameter(message, schema, key.split('.'), raw, '');
  }
  return message as unknown as Message;
}
