/**
 * Turns command-line flags, RS3GW_* and OTEL_* variables into one validated Config.
 * Flags win over variables, variables over defaults.
 */
import { ConfigError, MAX_TIMER_MS } from './parse.js';
import { SETTINGS, type SettingKey, type SettingValues } from './settings.js';
import { readTelemetryConfig, TELEMETRY_VARIABLES, type TelemetryConfig } from './telemetry.js';

export { ConfigError } from './parse.js';
export { SETTINGS } from './settings.js';
export { TELEMETRY_VARIABLES } from './telemetry.js';

export type Config = SettingValues & { telemetry: TelemetryConfig };

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
  const config = { ...(values as SettingValues), telemetry: readTelemetryConfig(env) };
  checkConsistency(config);
  resolveAdmissionController(config, explicit);
  return config;
}

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

function checkConsistency(c: Config): void {
  if (c.minThreads > c.maxThreads) {
    throw new ConfigError('RS3GW_MIN_THREADS', `must not exceed RS3GW_MAX_THREADS (${c.minThreads} > ${c.maxThreads})`);
  }
  if (c.minRateLimit > c.maxRateLimit) {
    throw new ConfigError('RS3GW_MIN_RATE_LIMIT', `must not exceed RS3GW_MAX_RATE_LIMIT (${c.minRateLimit} > ${c.maxRateLimit})`);
  }
  if (c.initialRateLimit < c.minRateLimit || c.initialRateLimit > c.maxRateLimit) {
    throw new ConfigError(
      'RS3GW_INITIAL_RATE_LIMIT',
      `must lie within [RS3GW_MIN_RATE_LIMIT, RS3GW_MAX_RATE_LIMIT] = [${c.minRateLimit}, ${c.maxRateLimit}], got ${c.initialRateLimit}`,
    );
  }
  // In whole milliseconds, as Node's HTTP server takes them, and shown so: 1.0004 and 1.0001 are equal there.
  const [headersMs, requestMs] = [Math.round(c.headersTimeout * 1000), Math.round(c.requestTimeout * 1000)];
  if (headersMs > requestMs) {
    throw new ConfigError('RS3GW_HEADERS_TIMEOUT', `must not exceed RS3GW_REQUEST_TIMEOUT, in whole milliseconds (${headersMs} ms > ${requestMs} ms)`);
  }
  // In whole milliseconds, as the continuous profiler takes them.
  const [durationMs, intervalMs] = [Math.round(c.profilingContinuousDuration * 1000), Math.round(c.profilingContinuousInterval * 1000)];
  if (durationMs >= intervalMs) {
    throw new ConfigError(
      'RS3GW_PROFILING_CONTINUOUS_DURATION',
      `must be shorter than RS3GW_PROFILING_CONTINUOUS_INTERVAL, in whole milliseconds (${durationMs} ms >= ${intervalMs} ms)`,
    );
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
    'An invalid value stops start-up with a message naming the variable and exit code 2. Durations are',
    `seconds, at least 0.001 (the timers' resolution) and at most ${MAX_TIMER_MS / 1000} (the longest`,
    'Node.js timer) unless stated.',
  );
  return lines.join('\n');
}
