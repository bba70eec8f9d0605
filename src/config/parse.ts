/** Parsers for configuration values. Each throws a ConfigError naming the variable or flag. */
import { isIPv4, isIPv6 } from 'node:net';
import { MAX_PRICE_USD } from '../core/business/costs.js';

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type Parser<T> = (raw: string, setting: string) => T;

export const parseBoolean: Parser<boolean> = (raw, setting) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(setting, `must be true or false, got '${raw}'`);
};

/** A decimal number: Number() alone would also read 0x10 as 16, 0b1 and 1e3. */
function parseNumber(raw: string, setting: string): number {
  const v = raw.trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(v)) throw new ConfigError(setting, `must be a decimal number, got '${raw}'`);
  return Number(v);
}

/** A fraction in [0, 1]. */
export const parseFraction: Parser<number> = (raw, setting) => {
  const n = parseNumber(raw, setting);
  if (n < 0 || n > 1) throw new ConfigError(setting, `must lie in [0, 1], got ${raw}`);
  return n;
};

/** A fraction above `min` and at most 1 (for thresholds the engines keep a margin below). */
export function parseFractionAbove(min: number): Parser<number> {
  return (raw, setting) => {
    const n = parseNumber(raw, setting);
    if (n <= min || n > 1) throw new ConfigError(setting, `must be above ${min} and at most 1, got ${raw}`);
    return n;
  };
}

/** A percentage above 0 and below 100 (a threshold some share of time can exceed). */
export const parsePercentBelow100: Parser<number> = (raw, setting) => {
  const n = parseNumber(raw, setting);
  if (n <= 0 || n >= 100) throw new ConfigError(setting, `must be above 0 and below 100, got ${raw}`);
  return n;
};

/** A count: an integer >= 1, and at most `max` where what uses it has a limit. */
export function parseCount(max = Number.MAX_SAFE_INTEGER): Parser<number> {
  const rule = max < Number.MAX_SAFE_INTEGER ? `a positive integer no larger than ${max}` : 'a positive integer';
  return (raw, setting) => {
    const v = raw.trim();
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw new ConfigError(setting, `must be ${rule}, got '${raw}'`);
    return Number(v);
  };
}

export const parsePositiveInt = parseCount();

/** A count, or `auto` for a value the service works out when it starts. */
export function parseCountOrAuto(max = Number.MAX_SAFE_INTEGER): Parser<number | 'auto'> {
  const count = parseCount(max);
  return (raw, setting) => (raw.trim().toLowerCase() === 'auto' ? 'auto' : count(raw, setting));
}

/** Node's timers take at most 2^31 - 1 ms; a longer delay overflows and fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A duration in seconds, at least `minMs` and at most `maxMs` once in milliseconds, which is how
 * the service uses it. The default floor is 1 ms, the resolution of Node's timers: a shorter
 * interval would run every millisecond, and a shorter lease would reclaim every permit at once.
 */
export function parseSeconds(maxMs = MAX_TIMER_MS, minMs = 1): Parser<number> {
  return (raw, setting) => {
    const n = parseNumber(raw, setting);
    const ms = n * 1000;
    if (ms < minMs || ms > maxMs) {
      throw new ConfigError(setting, `must be a number of seconds at least ${minMs / 1000} and at most ${maxMs / 1000}, got ${raw}`);
    }
    return n;
  };
}

/** A price in USD, up to MAX_PRICE_USD (see costs.ts): 1e309 digits would read as Infinity. */
export const parsePrice: Parser<number> = (raw, setting) => {
  const n = parseNumber(raw, setting);
  if (!(n >= 0 && n <= MAX_PRICE_USD)) throw new ConfigError(setting, `must be a price from 0 to ${MAX_PRICE_USD} (USD), got ${raw}`);
  return n;
};

/** A TCP port, 0 meaning any free port. */
export const parsePort: Parser<number> = (raw, setting) => {
  const v = raw.trim();
  if (!/^\d+$/.test(v) || Number(v) > 65535) {
    throw new ConfigError(setting, `must be a port number 0..65535, got '${raw}'`);
  }
  return Number(v);
};

/** A host name or address; an IPv6 address may be in brackets, as URLs and the listening line show it. */
export const parseHost: Parser<string> = (raw, setting) => {
  const v = raw.trim();
  const bracketed = /^\[(.*)\]$/.exec(v)?.[1];
  if (bracketed !== undefined && !isIPv6(bracketed)) throw new ConfigError(setting, `only an IPv6 address goes in brackets, got '${raw}'`);
  const host = bracketed ?? v;
  if (host === '' || /\s/.test(host)) throw new ConfigError(setting, `must be a host name or address, got '${raw}'`);
  // The kernel lets a socket bind these, but no connection can reach it there.
  if (isMulticastOrBroadcast(host)) throw new ConfigError(setting, `'${raw}' is a multicast or broadcast address, which takes no connections`);
  return host;
};

function isMulticastOrBroadcast(host: string): boolean {
  // An IPv4-mapped IPv6 address (::ffff:224.0.0.1) is the IPv4 address it maps.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host)?.[1];
  if (mapped !== undefined) return isMulticastOrBroadcast(mapped);
  if (isIPv4(host)) {
    const first = Number(host.split('.', 1)[0]);
    return (first >= 224 && first <= 239) || host === '255.255.255.255';
  }
  return isIPv6(host) && /^ff/i.test(host);
}

/** A comma-separated list of distinct process ids, each at most `maxPid`, at most `maxCount` of them. */
export function parsePidList(maxPid: number, maxCount: number): Parser<number[]> {
  const parsePid = parseCount(maxPid);
  return (raw, setting) => {
    const pids = [
      ...new Set(
        raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
          .map((s) => parsePid(s, setting)),
      ),
    ];
    if (pids.length > maxCount) throw new ConfigError(setting, `must list at most ${maxCount} process ids, got ${pids.length}`);
    return pids;
  };
}

export function parseOneOf<T extends string>(values: readonly T[]): Parser<T> {
  return (raw, setting) => {
    const v = raw.trim().toLowerCase();
    const found = values.find((x) => x === v);
    if (!found) throw new ConfigError(setting, `must be one of ${values.join(', ')}, got '${raw}'`);
    return found;
  };
}

/**
 * A comma-separated list of web origins as browsers send them in `Origin` (scheme://host[:port],
 * http or https, no path), or `*` for any, each in the form browsers serialise it (lower-case host,
 * no default port) so that the check compares strings. Empty entries are skipped.
 */
export const parseOriginList: Parser<string[]> = (raw, setting) => {
  const origins = new Set<string>();
  for (const entry of raw.split(',').map((s) => s.trim())) {
    if (entry === '') continue;
    if (entry === '*') {
      origins.add('*');
      continue;
    }
    const bad = (why: string) => new ConfigError(setting, `'${entry}' is not an origin: ${why}; write scheme://host[:port], e.g. https://dash.example:3000, or * for any`);
    const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/i.exec(entry);
    if (!m) throw bad('no scheme://');
    if (!/^https?$/i.test(m[1]!)) throw bad(`the scheme must be http or https, not ${m[1]}`);
    // Origin headers carry no path, not even '/': an entry with one would never match.
    if (m[3] !== '') throw bad(`an origin has no path, query or fragment ('${m[3]}')`);
    if (m[2]!.includes('@')) throw bad('an origin has no user name or password');
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw bad('the host or port cannot be read');
    }
    if (url.hostname === '') throw bad('no host');
    // URL takes '*' as a host character: such an entry would be kept and never match.
    if (url.hostname.includes('*')) throw bad('wildcards are not supported; list each origin, or * alone for any');
    origins.add(url.origin);
  }
  return [...origins];
};
