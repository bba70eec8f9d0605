/** Conversions between proto messages and the engines' plain values, shared by the handlers. */
import type { DescEnum } from '@bufbuild/protobuf';
import { durationFromMs, timestampFromMs, type Duration, type Timestamp } from '@bufbuild/protobuf/wkt';
import { invalidArgument } from '../../core/errors.js';

/**
 * A proto enum value as the engines name it: ANOMALY_TYPE_LATENCY_SPIKE -> 'latency_spike'.
 * UNSPECIFIED gives undefined; a number the enum does not define is refused, naming the field.
 */
export function enumName<T extends string>(schema: DescEnum, value: number, field: string): T | undefined {
  if (value === 0) return undefined;
  const found = schema.values.find((v) => v.number === value);
  if (!found) throw invalidArgument(field, `unknown value ${value}; expected one of ${valueNames(schema).join(', ')}`);
  return found.localName.toLowerCase() as T;
}

/** The enum's proto value names but UNSPECIFIED: the form every protocol's JSON takes. */
function valueNames(schema: DescEnum): string[] {
  return schema.values.filter((v) => v.number !== 0).map((v) => v.name);
}

/**
 * enumName for a field that must be set: UNSPECIFIED is refused with the values' proto names, the
 * form every protocol's JSON takes (a REST query takes the short ones too).
 */
export function requiredEnumName<T extends string>(schema: DescEnum, value: number, field: string): T {
  const name = enumName<T>(schema, value, field);
  if (name !== undefined) return name;
  const names = valueNames(schema);
  throw invalidArgument(field, `required: ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`);
}

/** The proto enum number of an engine name: 'latency_spike' -> ANOMALY_TYPE_LATENCY_SPIKE. */
export function enumNumber(schema: DescEnum, name: string): number {
  const found = schema.values.find((v) => v.localName.toLowerCase() === name);
  if (!found) throw new Error(`${schema.typeName} has no value ${name}`);
  return found.number;
}

/**
 * A timestamp in ms: the millisecond it falls in. Its range was checked by the call pipeline
 * (validate.ts), for every request; rounding to the nearest millisecond would take
 * 9999-12-31T23:59:59.9999Z past that range, and every JSON answer showing it would then fail.
 */
export function timestampOrUndefined(ts: Timestamp | undefined): number | undefined {
  return ts === undefined ? undefined : Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6);
}

/**
 * A time filter's bound (`since`, `start_time`, `end_time`) in ms: the first whole millisecond at or
 * after it. The engines keep times in whole milliseconds, so for a kept time t, t >= bound exactly
 * when t >= ts, and t < bound exactly when t < ts; a bound rounded to the nearest millisecond would
 * let in, or leave out, times up to half a millisecond on the wrong side of it.
 */
export function timeBoundOrUndefined(ts: Timestamp | undefined): number | undefined {
  return ts === undefined ? undefined : Number(ts.seconds) * 1000 + Math.ceil(ts.nanos / 1e6);
}

/**
 * A duration in ms; negative durations are refused. Its range, and one sign for seconds and nanos,
 * were checked by the call pipeline (validate.ts), for every request.
 */
export function durationOrUndefined(d: Duration | undefined, field: string): number | undefined {
  if (d === undefined) return undefined;
  // Exact, unlike durationMs() which rounds to whole milliseconds (I/O latencies are microseconds).
  const ms = Number(d.seconds) * 1000 + d.nanos / 1e6;
  if (ms < 0) throw invalidArgument(field, `must not be negative, got ${ms} ms`);
  return ms;
}

/**
 * Microseconds to whole nanoseconds, the finest a Duration carries: a latency sent as 0.0001234s
 * goes through milliseconds and read 123.39999999999999 µs.
 */
export const wholeNs = (us: number): number => Math.round(us * 1000) / 1000;

export const timestamp = (ms: number): Timestamp => timestampFromMs(Math.round(ms));
export const duration = (ms: number): Duration => durationFromMs(Math.round(ms));

/** Engine counts are JS numbers; proto uint64 fields are bigint. */
export const u64 = (n: number): bigint => BigInt(Math.max(0, Math.trunc(n)));

