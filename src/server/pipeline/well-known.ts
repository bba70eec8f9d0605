/**
 * The ranges of google.protobuf.Timestamp and Duration (those proto3 JSON can encode, as the
 * types' own documentation states), and how client input is echoed in error messages.
 */
import type { Duration, Timestamp } from '@bufbuild/protobuf/wkt';

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, in seconds since the epoch. */
const MIN_TIMESTAMP_SECONDS = -62_135_596_800;
const MAX_TIMESTAMP_SECONDS = 253_402_300_799;
/** About 10,000 years either way. */
export const MAX_DURATION_SECONDS = 315_576_000_000;
const MAX_NANOS = 999_999_999;

export const TIMESTAMP_RANGE = '0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z';
export const TIMESTAMP_FORM = 'an RFC 3339 time such as 2025-12-31T00:00:00Z or 2025-12-31T01:00:00.5+01:00 (upper-case T and Z, seconds up to 59)';
export const DURATION_FORM = 'a duration string such as "1.5s" or "300s" (seconds with up to 9 decimals and the suffix s)';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const RFC3339_FIELDS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):\d{2}(?:\.\d+)?(?:Z|([+-]\d{2}):(\d{2}))$/;

/**
 * Why an RFC 3339 time that protobuf-es decoded names no instant, or undefined. protobuf-es reads
 * the date with Date.parse, which moves 2025-02-30 to March 2nd and T24:00 to the next day; RFC
 * 3339 (section 5.7) allows neither.
 */
export function calendarProblem(text: string): string | undefined {
  const m = RFC3339_FIELDS.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  if (month >= 1 && month <= 12) {
    const days = DAYS_IN_MONTH[month - 1]! + (month === 2 && isLeapYear(year) ? 1 : 0);
    if (day > days) return `day ${m[3]} is not in ${MONTHS[month - 1]} ${m[1]}, which has ${days} days`;
  }
  if (hour > 23 || minute > 59) return `${m[4]}:${m[5]} is not a time of day (00:00 to 23:59)`;
  if (m[6] !== undefined && (Math.abs(Number(m[6])) > 23 || Number(m[7]) > 59)) return `the offset ${m[6]}:${m[7]} is out of range (at most ±23:59)`;
  return undefined;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DURATION_TEXT = /^-?\d+(?:\.\d{1,9})?s$/;

/**
 * Whether a Duration's JSON text is proto3's form whole: protobuf-es reads only a prefix of it, so
 * "1sx" and "0.5seconds" would pass as 1s and 0.5s.
 */
export function isDurationText(text: string): boolean {
  return DURATION_TEXT.test(text);
}

/** Why a Timestamp is outside what proto3 can represent, or undefined when it is within. */
export function timestampProblem(ts: Pick<Timestamp, 'seconds' | 'nanos'>): string | undefined {
  const seconds = Number(ts.seconds);
  if (seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS) {
    return `must be from ${TIMESTAMP_RANGE}, got seconds ${ts.seconds}`;
  }
  if (!Number.isInteger(ts.nanos) || ts.nanos < 0 || ts.nanos > MAX_NANOS) return `nanos must be from 0 to ${MAX_NANOS}, got ${ts.nanos}`;
  return undefined;
}

/** Why a Duration is outside what proto3 can represent, or undefined when it is within. */
export function durationProblem(d: Pick<Duration, 'seconds' | 'nanos'>): string | undefined {
  const seconds = Number(d.seconds);
  if (Math.abs(seconds) > MAX_DURATION_SECONDS) {
    return `seconds must be from -${MAX_DURATION_SECONDS} to ${MAX_DURATION_SECONDS} (about 10,000 years), got ${d.seconds}`;
  }
  if (!Number.isInteger(d.nanos) || Math.abs(d.nanos) > MAX_NANOS) return `nanos must be from -${MAX_NANOS} to ${MAX_NANOS}, got ${d.nanos}`;
  if ((seconds > 0 && d.nanos < 0) || (seconds < 0 && d.nanos > 0)) {
    return `seconds and nanos must have the same sign, got seconds ${d.seconds} and nanos ${d.nanos}`;
  }
  return undefined;
}

/** Longest piece of client input an error message repeats. */
export const MAX_ECHO_CHARS = 200;

/** Client input as an error message shows it: at most MAX_ECHO_CHARS characters, then an ellipsis and the length. */
export function clip(value: string, max = MAX_ECHO_CHARS): string {
  return value.length <= max ? value : `${value.slice(0, max)}… (${value.length} characters)`;
}

/**
 * Client input in quotes, clipped as clipMessage clips quoted values (`"abc…" (300 characters)`),
 * so that a message passing through both shows it once.
 */
export function quote(value: string, mark: '"' | "'" = '"'): string {
  return value.length <= MAX_ECHO_CHARS ? `${mark}${value}${mark}` : `${mark}${value.slice(0, MAX_ECHO_CHARS)}…${mark} (${value.length} characters)`;
}

/** A JSON value as an error message shows it, clipped. */
export function showJson(value: unknown): string {
  if (typeof value === 'string') return quote(JSON.stringify(value).slice(1, -1));
  // JSON.parse reads a number beyond a double's range (1e400) as Infinity, which JSON writes as null.
  if (typeof value === 'number' && !Number.isFinite(value)) return `a number beyond the range of a double (read as ${value})`;
  // Request JSON nests at most MAX_JSON_DEPTH deep (json-depth.ts), which JSON.stringify writes out.
  return clip(JSON.stringify(value) ?? String(value));
}

/** Longest error message sent to a client; a message longer than this is cut. */
const MAX_MESSAGE_CHARS = 1024;
const LONG_QUOTED = new RegExp(`"([^"]{${MAX_ECHO_CHARS + 1},})"|'([^']{${MAX_ECHO_CHARS + 1},})'`, 'g');

/**
 * An error message with every long quoted value in it clipped, and the whole of it cut to a
 * bounded length: messages repeat client input (an unknown id, a bad value), and a 4 MB id must
 * not come back as a 4 MB body or grpc-message trailer.
 */
export function clipMessage(message: string): string {
  if (message.length <= MAX_ECHO_CHARS) return message;
  const clipped = message.replace(LONG_QUOTED, (all, double: string | undefined, single: string | undefined) => {
    const [mark, value] = double !== undefined ? ['"', double] : ["'", single!];
    // Already clipped (by quote(), or by an earlier pass): a message may be clipped twice on its way.
    if (value.length === MAX_ECHO_CHARS + 1 && value.endsWith('…')) return all;
    return `${mark}${value.slice(0, MAX_ECHO_CHARS)}…${mark} (${value.length} characters)`;
  });
  return clipped.length <= MAX_MESSAGE_CHARS ? clipped : `${clipped.slice(0, MAX_MESSAGE_CHARS)}… (${clipped.length} characters)`;
}
