import { readFileSync } from 'node:fs';
import { invalidArgument } from '../../../src/core/errors.js';
import type { Priority } from '../../../src/core/resource/admission/types.js';

/**
 * The scenario file format of docs/specs admission-sim: one JSON object, unknown keys rejected with
 * the key's path in the message. Two optional keys extend the spec: `description` (free text) and
 * `priorities` (the share of arrivals per priority; all 'normal' when absent).
 */

export type ServiceSpec =
  | { kind: 'lognormal'; meanMs: number; sigma: number }
  | { kind: 'bimodal'; p: number; fastMs: number; slowMs: number };

type ArrivalSpec = { kind: 'poisson' } | { kind: 'onOff'; onS: number; offS: number };

export interface Phase {
  seconds: number;
  load: number;
}

interface CapacityEvent {
  atS: number;
  seconds: number;
  serviceMultiplier: number;
}

export interface Scenario {
  name: string;
  description?: string;
  seeds: number[];
  workers: number;
  service: ServiceSpec;
  contention: number;
  deadlineMs: number;
  rejectCostMs: number;
  arrivals: ArrivalSpec;
  phases: Phase[];
  capacityEvents: CapacityEvent[];
  priorities: Record<Priority, number>;
}

const MAX_SEEDS = 1000;
const MAX_PHASES = 1000;
const MAX_EVENTS = 1000;
const MAX_WORKERS = 100_000;
const MAX_TOTAL_SECONDS = 86_400;
const MIN_ON_OFF_S = 0.001;
/** Expected arrivals per seed; bounds the memory of a run (an unprotected server queues them all). */
const MAX_ARRIVALS_PER_SEED = 20_000_000;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function object(v: unknown, path: string, allowed: readonly string[]): Json {
  if (!isObject(v)) throw invalidArgument(path, 'must be an object');
  for (const key of Object.keys(v)) {
    if (!allowed.includes(key)) {
      throw invalidArgument(path ? `${path}.${key}` : key, `unknown key (allowed: ${allowed.join(', ')})`);
    }
  }
  return v;
}

function number(v: unknown, path: string, min: number, opts: { exclusiveMin?: boolean; max?: number } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidArgument(path, 'must be a finite number');
  if (opts.exclusiveMin ? v <= min : v < min) {
    throw invalidArgument(path, `must be ${opts.exclusiveMin ? '>' : '>='} ${min}`);
  }
  if (opts.max !== undefined && v > opts.max) throw invalidArgument(path, `must be <= ${opts.max}`);
  return v;
}

function integer(v: unknown, path: string, min: number, max: number): number {
  const n = number(v, path, min, { max });
  if (!Number.isInteger(n)) throw invalidArgument(path, 'must be an integer');
  return n;
}

function array(v: unknown, path: string, max: number, allowEmpty = false): unknown[] {
  if (!Array.isArray(v)) throw invalidArgument(path, 'must be an array');
  if (v.length === 0 && !allowEmpty) throw invalidArgument(path, 'must not be empty');
  if (v.length > max) throw invalidArgument(path, `must have at most ${max} entries`);
  return v;
}

function parseService(v: unknown): ServiceSpec {
  const o = object(v, 'service', ['lognormal', 'bimodal']);
  const kinds = Object.keys(o);
  if (kinds.length !== 1) throw invalidArgument('service', 'must have exactly one of lognormal, bimodal');
  if (o.lognormal !== undefined) {
    const l = object(o.lognormal, 'service.lognormal', ['meanMs', 'sigma']);
    return {
      kind: 'lognormal',
      meanMs: number(l.meanMs, 'service.lognormal.meanMs', 0, { exclusiveMin: true }),
      sigma: number(l.sigma, 'service.lognormal.sigma', 0, { max: 5 }),
    };
  }
  const b = object(o.bimodal, 'service.bimodal', ['p', 'fastMs', 'slowMs']);
  return {
    kind: 'bimodal',
    p: number(b.p, 'service.bimodal.p', 0, { max: 1 }),
    fastMs: number(b.fastMs, 'service.bimodal.fastMs', 0, { exclusiveMin: true }),
    slowMs: number(b.slowMs, 'service.bimodal.slowMs', 0, { exclusiveMin: true }),
  };
}

function parseArrivals(v: unknown): ArrivalSpec {
  if (v === undefined || v === 'poisson') return { kind: 'poisson' };
  if (typeof v === 'string') throw invalidArgument('arrivals', `must be "poisson" or {"onOff": ...}, got "${v}"`);
  const o = object(v, 'arrivals', ['onOff']);
  const on = object(o.onOff, 'arrivals.onOff', ['onS', 'offS']);
  const onS = number(on.onS, 'arrivals.onOff.onS', MIN_ON_OFF_S);
  const offS = number(on.offS, 'arrivals.onOff.offS', 0);
  // Periods shorter than a millisecond model nothing a server sees; offS 0 means never off.
  if (offS > 0 && offS < MIN_ON_OFF_S) throw invalidArgument('arrivals.onOff.offS', `must be 0 or >= ${MIN_ON_OFF_S}`);
  return { kind: 'onOff', onS, offS };
}

function parsePriorities(v: unknown): Record<Priority, number> {
  if (v === undefined) return { critical: 0, normal: 1, sheddable: 0 };
  const o = object(v, 'priorities', ['critical', 'normal', 'sheddable']);
  const share = (key: Priority): number =>
    o[key] === undefined ? 0 : number(o[key], `priorities.${key}`, 0, { max: 1 });
  const shares = { critical: share('critical'), normal: share('normal'), sheddable: share('sheddable') };
  const total = shares.critical + shares.normal + shares.sheddable;
  if (Math.abs(total - 1) > 1e-9) throw invalidArgument('priorities', `shares must add up to 1, got ${total}`);
  return shares;
}

export function parseScenario(input: unknown): Scenario {
  const o = object(input, '', [
    'name', 'description', 'seeds', 'workers', 'service', 'contention', 'deadlineMs', 'rejectCostMs',
    'arrivals', 'phases', 'capacityEvents', 'priorities',
  ]);
  if (typeof o.name !== 'string' || o.name.trim() === '') throw invalidArgument('name', 'must be a non-empty string');
  if (o.description !== undefined && typeof o.description !== 'string') {
    throw invalidArgument('description', 'must be a string');
  }
  const seeds = array(o.seeds, 'seeds', MAX_SEEDS).map((s, i) => integer(s, `seeds[${i}]`, 0, 2 ** 32 - 1));
  const phases = array(o.phases, 'phases', MAX_PHASES).map((p, i) => {
    const ph = object(p, `phases[${i}]`, ['seconds', 'load']);
    return {
      seconds: number(ph.seconds, `phases[${i}].seconds`, 0, { exclusiveMin: true }),
      load: number(ph.load, `phases[${i}].load`, 0, { max: 1000 }),
    };
  });
  const total = phases.reduce((s, p) => s + p.seconds, 0);
  if (total > MAX_TOTAL_SECONDS) throw invalidArgument('phases', `must last at most ${MAX_TOTAL_SECONDS} s in total`);
  const events = o.capacityEvents === undefined ? [] : array(o.capacityEvents, 'capacityEvents', MAX_EVENTS, true);
  const capacityEvents = events.map((e, i) => {
    const ev = object(e, `capacityEvents[${i}]`, ['atS', 'seconds', 'serviceMultiplier']);
    return {
      atS: number(ev.atS, `capacityEvents[${i}].atS`, 0),
      seconds: number(ev.seconds, `capacityEvents[${i}].seconds`, 0, { exclusiveMin: true }),
      serviceMultiplier: number(ev.serviceMultiplier, `capacityEvents[${i}].serviceMultiplier`, 0, {
        exclusiveMin: true,
        max: 1000,
      }),
    };
  });
  const scenario: Scenario = {
    name: o.name,
    ...(o.description !== undefined ? { description: o.description as string } : {}),
    seeds,
    workers: integer(o.workers, 'workers', 1, MAX_WORKERS),
    service: parseService(o.service),
    contention: o.contention === undefined ? 0 : number(o.contention, 'contention', 0, { max: 100 }),
    deadlineMs: o.deadlineMs === undefined ? 1000 : number(o.deadlineMs, 'deadlineMs', 0, { exclusiveMin: true }),
    rejectCostMs: o.rejectCostMs === undefined ? 0 : number(o.rejectCostMs, 'rejectCostMs', 0),
    arrivals: parseArrivals(o.arrivals),
    phases,
    capacityEvents,
    priorities: parsePriorities(o.priorities),
  };
  const expectedArrivals = phases.reduce((n, p) => n + p.load * capacityRps(scenario) * p.seconds, 0);
  if (expectedArrivals > MAX_ARRIVALS_PER_SEED) {
    throw invalidArgument('phases', `would bring about ${Math.round(expectedArrivals)} arrivals per seed, more than ${MAX_ARRIVALS_PER_SEED}`);
  }
  return scenario;
}

export function loadScenario(path: string): Scenario {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw invalidArgument('scenario', `cannot read ${path}: ${(err as Error).message}`);
  }
  return parseScenario(json);
}

export function meanServiceMs(service: ServiceSpec): number {
  return service.kind === 'lognormal' ? service.meanMs : service.p * service.fastMs + (1 - service.p) * service.slowMs;
}

/** Capacity in requests per second with contention ignored: workers / mean(S). */
export function capacityRps(s: Scenario): number {
  return (s.workers * 1000) / meanServiceMs(s.service);
}

/** Product of the multipliers of the capacity events in force at `ms`. */
export function serviceMultiplierAt(s: Scenario, ms: number): number {
  let m = 1;
  for (const e of s.capacityEvents) {
    if (ms >= e.atS * 1000 && ms < (e.atS + e.seconds) * 1000) m *= e.serviceMultiplier;
  }
  return m;
}

/** Phase start times in ms, plus the end of the run as the last entry. */
export function phaseBoundsMs(s: Scenario): number[] {
  const bounds = [0];
  for (const p of s.phases) bounds.push(bounds[bounds.length - 1] + p.seconds * 1000);
  return bounds;
}
