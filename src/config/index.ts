/**
 * Turns command-line flags, RS3GW_* and OTEL_* variables into one validated Config.
 * Flags win over variables, variables over defaults.
 */
import { nearMisses } from './near-misses.js';
import { ConfigError, MAX_TIMER_MS } from './parse.js';
import { SETTINGS, type SettingKey, type SettingValues } from './settings.js';
import { readTelemetryConfig, TELEMETRY_VARIABLES, type TelemetryConfig } from './telemetry.js';

export { ConfigError } from './parse.js';
export { SETTINGS } from './settings.js';
export { TELEMETRY_VARIABLES } from './telemetry.js';

export type Config = SettingValues & {
  telemetry: TelemetryConfig;
  /** Settings given that this configuration does not use, one line each for the start-up log. */
  ignored: readonly string[];
  /** Settings given by flag or variable rather than left at their defaults. */
  explicit: ReadonlySet<SettingKey>;
};

export interface CommandLine {
  command: 'serve' | 'help' | 'version';
  /** Flag values by flag name, as given. */
  flags: Map<string, string>;
}

const FLAG_KEYS = new Map<string, SettingKey>(
  (Object.keys(SETTINGS) as SettingKey[]).flatMap((key) => {
    const flag: string | undefined = SETTINGS[key].flag;
    return flag ? [[flag, key] as [string, SettingKey]] : [];
  }),
);

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const flags = new Map<string, string>();
  let command: CommandLine['command'] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { command: 'help', flags };
    if (arg === '--version') return { command: 'version', flags };
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      if (!FLAG_KEYS.has(name)) throw new ConfigError(`--${name}`, 'unknown flag (see --help)');
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new ConfigError(`--${name}`, 'needs a value');
      flags.set(name, value);
    } else if (command === undefined && arg === 'serve') {
      command = 'serve';
    } else if (command === undefined && arg === 'help') {
      return { command: 'help', flags };
    } else {
      throw new ConfigError(arg, "unknown command or argument (the command is 'serve'; see --help)");
    }
  }
  return { command: command ?? 'serve', flags };
}

export function loadConfig(env: NodeJS.ProcessEnv, flags: ReadonlyMap<string, string> = new Map()): Config {
  const values = {} as Record<SettingKey, unknown>;
  const explicit = new Set<SettingKey>();
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const s = SETTINGS[key];
    const flag: string | undefined = s.flag;
    const fromFlag = flag !== undefined ? flags.get(flag) : undefined;
    const fromEnv = env[s.env];
    if (fromFlag !== undefined) values[key] = s.parse(fromFlag, `--${flag}`);
    else if (fromEnv !== undefined && fromEnv.trim() !== '') values[key] = s.parse(fromEnv, s.env);
    else values[key] = s.parse(s.default, s.env);
    if (fromFlag !== undefined || (fromEnv !== undefined && fromEnv.trim() !== '')) explicit.add(key);
  }
  const config = { ...(values as SettingValues), telemetry: readTelemetryConfig(env), ignored: [] as string[], explicit };
  config.ignored.push(...nearMisses(env, 'RS3GW_', Object.values(SETTINGS).map((s) => s.env)));
  resolveAdmissionController(config, explicit);
  checkConsistency(config, explicit);
  const ignore = ignoredLine(config.ignored, explicit);
  if (config.admissionController !== 'seed') {
    ignore(SEED_ONLY, (them) => `the admission controller is '${config.admissionController}', and only the seed controller's token bucket reads ${them} (RS3GW_ADMISSION_CONTROLLER=seed)`);
  } else if (!config.adaptiveRateLimit) {
    ignore(ADAPTIVE_BOUNDS, () => 'RS3GW_ADAPTIVE_RATE_LIMIT=false holds the rate at RS3GW_INITIAL_RATE_LIMIT, which the bounds of its adaptation do not limit');
  }
  if (!config.profilingContinuous) {
    ignore(CONTINUOUS_ONLY, (them) => `RS3GW_PROFILING_CONTINUOUS is false, and only background profiling reads ${them}`);
  }
  return config;
}

/**
 * Adds one line for the settings among `keys` set explicitly that nothing will read, saying why
 * (`why` gets 'it' or 'them'); none when none of them was set.
 */
function ignoredLine(lines: string[], explicit: ReadonlySet<SettingKey>) {
  return (keys: readonly SettingKey[], why: (them: string) => string): void => {
    const unused = keys.filter((key) => explicit.has(key)).map((key) => SETTINGS[key].env);
    if (unused.length > 0) lines.push(`${unused.join(', ')} ignored: ${why(unused.length > 1 ? 'them' : 'it')}`);
  };
}

/** Background profiling's timing, which nothing reads while it is off. */
const CONTINUOUS_ONLY: readonly SettingKey[] = ['profilingContinuousInterval', 'profilingContinuousDuration'];
/** The seed controller's settings, which the adaptive controller does not read. */
const SEED_ONLY: readonly SettingKey[] = ['initialRateLimit', 'minRateLimit', 'maxRateLimit'];
/** The bounds of the seed controller's adaptation, which a fixed rate does not read. */
const ADAPTIVE_BOUNDS: readonly SettingKey[] = ['minRateLimit', 'maxRateLimit'];

/**
 * A fixed rate (RS3GW_ADAPTIVE_RATE_LIMIT=false) is the seed controller's token bucket held at
 * RS3GW_INITIAL_RATE_LIMIT. Alone it keeps that meaning, as in rs3gw, and the config says so by
 * naming the seed controller (which GetResources then reports); with RS3GW_ADMISSION_CONTROLLER=adaptive
 * set as well, one of the two would be silently ignored, so start-up refuses the pair.
 */
function resolveAdmissionController(c: Config, explicit: ReadonlySet<SettingKey>): void {
  if (c.adaptiveRateLimit || c.admissionController === 'seed') return;
  if (explicit.has('admissionController')) {
    throw new ConfigError(
      'RS3GW_ADMISSION_CONTROLLER',
      "'adaptive' contradicts RS3GW_ADAPTIVE_RATE_LIMIT=false, which holds the seed controller's token bucket at RS3GW_INITIAL_RATE_LIMIT; unset one of them",
    );
  }
  c.admissionController = 'seed';
}

/**
 * Refuses `low` above `high` (or, when `strict`, not below it), naming the variable the user set:
 * the default of the other is no mistake of theirs, and is said to be a default. `show` gives a
 * value as compared.
 */
function ordered(
  c: Config,
  explicit: ReadonlySet<SettingKey>,
  [low, high]: [SettingKey, SettingKey],
  compare: (low: number, high: number) => boolean,
  { show = (key: SettingKey) => String(c[key]), how = '', strict = false }: { show?: (key: SettingKey) => string; how?: string; strict?: boolean } = {},
): void {
  if (compare(c[low] as number, c[high] as number)) return;
  const [lowEnv, highEnv] = [SETTINGS[low].env, SETTINGS[high].env];
  if (explicit.has(high) && !explicit.has(low)) {
    throw new ConfigError(highEnv, `must be ${strict ? 'longer than' : 'at least'} ${lowEnv}${how}, which is ${show(low)} by default; got ${show(high)}`);
  }
  const defaulted = explicit.has(low) && !explicit.has(high) ? `, ${highEnv}'s default` : '';
  throw new ConfigError(lowEnv, `must ${strict ? 'be shorter than' : 'not exceed'} ${highEnv}${how} (${show(low)} ${strict ? '>=' : '>'} ${show(high)}${defaulted})`);
}

function checkConsistency(c: Config, explicit: ReadonlySet<SettingKey>): void {
  // In whole milliseconds, as Node's HTTP server and the continuous profiler take them, and shown
  // so: 1.0004 and 1.0001 are equal there.
  const ms = (key: SettingKey) => `${Math.round((c[key] as number) * 1000)} ms`;
  const inMs = (compare: (a: number, b: number) => boolean) => (a: number, b: number) => compare(Math.round(a * 1000), Math.round(b * 1000));
  const atMost = (a: number, b: number) => a <= b;
  ordered(c, explicit, ['minThreads', 'maxThreads'], atMost);
  // The token bucket's rates matter only to the seed controller (others log them as ignored).
  if (c.admissionController === 'seed' && c.adaptiveRateLimit) checkRates(c, explicit);
  const how = ', in whole milliseconds';
  ordered(c, explicit, ['headersTimeout', 'requestTimeout'], inMs(atMost), { show: ms, how });
  // Only continuous profiling reads the pair.
  if (c.profilingContinuous) {
    ordered(c, explicit, ['profilingContinuousDuration', 'profilingContinuousInterval'], inMs((a, b) => a < b), { show: ms, how, strict: true });
  }
}

function helpLine(name: string, help: string, defaultText: string): string {
  return `  ${name.padEnd(40)} ${help}${defaultText !== '' ? ` [${defaultText}]` : ''}`;
}

/** The text of `rs3gw-obs --help`. */
export function helpText(): string {
  const lines = [
    'Usage: rs3gw-obs serve [--host ADDRESS] [--port PORT]',
    '',
    'Serves gRPC (with reflection and grpc.health.v1), Connect, gRPC-Web, the REST paths under',
    '/api/observability/ and /metrics on one port. Every setting is an environment variable;',
    'flags, where shown, override it.',
  ];
  let group = '';
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const s = SETTINGS[key];
    if (s.group !== group) {
      group = s.group;
      lines.push('', `${group}:`);
    }
    const flag: string | undefined = s.flag;
    const name = flag ? `${s.env} (--${flag})` : s.env;
    lines.push(helpLine(name, s.help, s.default));
  }
  lines.push('', 'Tracing (standard OpenTelemetry variables; empty = unset):');
  for (const v of TELEMETRY_VARIABLES) lines.push(helpLine(v.env, v.help, v.default));
  lines.push(
    '',
    'An invalid value stops start-up with a message naming the variable and exit code 2. Numbers are',
    `decimal. Durations are seconds, at least 0.001 (the timers' resolution) and at most ${MAX_TIMER_MS / 1000}`,
    '(the longest Node.js timer) unless stated.',
  );
  return lines.join('\n');
}

/** The seed controller's rates: min <= initial <= max, the bound at fault the one given if the rate was not. */
function checkRates(c: Config, explicit: ReadonlySet<SettingKey>): void {
  const atMost = (a: number, b: number) => a <= b;
  ordered(c, explicit, ['minRateLimit', 'maxRateLimit'], atMost);
  if (explicit.has('initialRateLimit') || (!explicit.has('minRateLimit') && !explicit.has('maxRateLimit'))) {
    if (c.initialRateLimit < c.minRateLimit || c.initialRateLimit > c.maxRateLimit) {
      const bound = (key: SettingKey) => `${c[key]}${explicit.has(key) ? '' : ' (default)'}`;
      throw new ConfigError(
        'RS3GW_INITIAL_RATE_LIMIT',
        `must lie within [RS3GW_MIN_RATE_LIMIT, RS3GW_MAX_RATE_LIMIT] = [${bound('minRateLimit')}, ${bound('maxRateLimit')}], got ${c.initialRateLimit}`,
      );
    }
  } else {
    ordered(c, explicit, ['minRateLimit', 'initialRateLimit'], atMost);
    ordered(c, explicit, ['initialRateLimit', 'maxRateLimit'], atMost);
  }
}
