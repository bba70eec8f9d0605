import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseCommandLine, SETTINGS, TELEMETRY_VARIABLES } from '../../src/config/index.js';
import { SeedRuleController } from '../../src/core/resource/admission/seed-rule.js';
import { connectionCapFromLimits, MIN_CONNECTION_CAP, RESERVED_FILES } from '../../src/server/connection-cap.js';

/** The token bucket's rates are checked for the seed controller, the one that reads them. */
const SEED = { RS3GW_ADMISSION_CONTROLLER: 'seed' };

function rejects(env: Record<string, string>, variable: string, flags = new Map<string, string>()): void {
  try {
    loadConfig(env, flags);
    assert.unreachable(`accepted ${JSON.stringify(env)}`);
  } catch (error) {
    assert.instance(error, ConfigError);
    assert.is((error as ConfigError).setting, variable);
    assert.ok((error as Error).message.startsWith(`${variable}: `), (error as Error).message);
  }
}

test('defaults are the seed documentation and the issue say', () => {
  const c = loadConfig({});
  assert.is(c.host, '127.0.0.1');
  assert.is(c.port, 9000);
  assert.is(c.profilingEnabled, true);
  assert.is(c.profilingInterval, 60);
  assert.is(c.profilingMaxSnapshots, 100);
  assert.is(c.targetCpu, 0.75);
  assert.is(c.memoryThreshold, 0.85);
  assert.is(c.adaptiveRateLimit, true);
  assert.is(c.initialRateLimit, 1000);
  assert.is(c.minRateLimit, 100);
  assert.is(c.maxRateLimit, 10000);
  assert.is(c.loadSheddingThreshold, 0.95);
  assert.is(c.costStoragePerGibMonth, 0.023);
  assert.is(c.costTransferOutPerGib, 0.09);
  assert.is(c.costPerThousandRequests, 0.0004);
  assert.equal(c.telemetry.exporters, []);
});

test('flags win over variables, variables over defaults', () => {
  const { flags } = parseCommandLine(['serve', '--port', '9100', '--host=0.0.0.0']);
  const c = loadConfig({ RS3GW_PORT: '9200', RS3GW_TARGET_CPU: '0.5' }, flags);
  assert.is(c.port, 9100);
  assert.is(c.host, '0.0.0.0');
  assert.is(c.targetCpu, 0.5);
});

test('fractions must lie in [0, 1]', () => {
  for (const v of ['1.5', '-0.1', 'abc', 'NaN']) rejects({ RS3GW_TARGET_CPU: v }, 'RS3GW_TARGET_CPU');
  for (const name of ['RS3GW_MEMORY_THRESHOLD', 'RS3GW_LOAD_SHEDDING_THRESHOLD']) rejects({ [name]: '2' }, name);
  rejects({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.01' }, 'OTEL_TRACES_SAMPLER_ARG');
});

test('the target CPU must be above 0; low targets down to 0.01 are accepted', () => {
  rejects({ RS3GW_TARGET_CPU: '0' }, 'RS3GW_TARGET_CPU');
  assert.is(loadConfig({ RS3GW_TARGET_CPU: '0.01' }).targetCpu, 0.01);
});

test('prices are decimal USD from 0 to 1000000: digits past a double read as Infinity stopped start-up as a bug', () => {
  const huge = `1${'0'.repeat(309)}`;
  for (const name of ['RS3GW_COST_STORAGE_PER_GIB_MONTH', 'RS3GW_COST_TRANSFER_OUT_PER_GIB', 'RS3GW_COST_PER_1000_REQUESTS']) {
    for (const v of [huge, '1000000.01', '-0.01', '1e3']) rejects({ [name]: v }, name);
  }
  assert.is(loadConfig({ RS3GW_COST_PER_1000_REQUESTS: '1000000' }).costPerThousandRequests, 1_000_000);
});

test('counts must be positive integers', () => {
  for (const v of ['0', '-3', '2.5', '1e3', 'ten']) rejects({ RS3GW_PROFILING_MAX_SNAPSHOTS: v }, 'RS3GW_PROFILING_MAX_SNAPSHOTS');
  rejects({ RS3GW_MAX_THREADS: '0' }, 'RS3GW_MAX_THREADS');
  rejects({ RS3GW_INITIAL_RATE_LIMIT: '-1' }, 'RS3GW_INITIAL_RATE_LIMIT');
});

test('durations fit the timers and the engines that use them', () => {
  // 2^31 - 1 ms is the longest Node.js timer; one millisecond more would fire every millisecond.
  const timers = [
    'RS3GW_SHUTDOWN_GRACE',
    'RS3GW_PROFILING_INTERVAL',
    'RS3GW_METRICS_SNAPSHOT_INTERVAL',
    'RS3GW_ADJUSTMENT_INTERVAL',
    'RS3GW_PERMIT_LEASE',
  ];
  for (const name of timers) {
    rejects({ [name]: '2147483.648' }, name);
    rejects({ [name]: '3000000' }, name);
    rejects({ [name]: '0' }, name);
    loadConfig({ [name]: '2147483.647' });
  }
  // Timers resolve milliseconds: below one, an interval would run every millisecond and a lease
  // would reclaim every permit as soon as it was granted.
  for (const name of ['RS3GW_SHUTDOWN_GRACE', 'RS3GW_ADJUSTMENT_INTERVAL', 'RS3GW_PERMIT_LEASE', 'RS3GW_RESOURCE_WINDOW']) {
    rejects({ [name]: '0.0009' }, name);
    loadConfig({ [name]: '0.001' });
  }
  // Snapshots are the points of GetTrend, at most one a second: a shorter interval is refused, not raised.
  rejects({ RS3GW_METRICS_SNAPSHOT_INTERVAL: '0.5' }, 'RS3GW_METRICS_SNAPSHOT_INTERVAL');
  assert.is(loadConfig({ RS3GW_METRICS_SNAPSHOT_INTERVAL: '1' }).metricsSnapshotInterval, 1);
  // Process snapshots take CPU from clock ticks (10 ms at 100 Hz): under a second they say little
  // and cost a /proc read per watched process each time.
  rejects({ RS3GW_PROFILING_INTERVAL: '0.0001' }, 'RS3GW_PROFILING_INTERVAL');
  assert.is(loadConfig({ RS3GW_PROFILING_INTERVAL: '1' }).profilingInterval, 1);
  rejects({ RS3GW_PROFILING_MAX_SECONDS: '3601' }, 'RS3GW_PROFILING_MAX_SECONDS');
  assert.is(loadConfig({ RS3GW_PROFILING_MAX_SECONDS: '3600' }).profilingMaxSeconds, 3600);
  rejects({ RS3GW_PROFILING_CONTINUOUS_INTERVAL: '86400.001' }, 'RS3GW_PROFILING_CONTINUOUS_INTERVAL');
  rejects({ RS3GW_PROFILING_CONTINUOUS: 'true', RS3GW_PROFILING_CONTINUOUS_DURATION: '3600.001', RS3GW_PROFILING_CONTINUOUS_INTERVAL: '86400' }, 'RS3GW_PROFILING_CONTINUOUS_DURATION');
  rejects({ RS3GW_PROFILING_CONTINUOUS: 'true', RS3GW_PROFILING_CONTINUOUS_DURATION: '0.0009', RS3GW_PROFILING_CONTINUOUS_INTERVAL: '1' }, 'RS3GW_PROFILING_CONTINUOUS_DURATION');
  // Both round to 1 ms, which the profiler takes: the capture would not be shorter than the interval.
  rejects({ RS3GW_PROFILING_CONTINUOUS: 'true', RS3GW_PROFILING_CONTINUOUS_DURATION: '0.0011', RS3GW_PROFILING_CONTINUOUS_INTERVAL: '0.0014' }, 'RS3GW_PROFILING_CONTINUOUS_DURATION');
  // The message shows what was compared, not the values as given (1.0001 >= 1.0004 would be false).
  assert.throws(
    () => loadConfig({ RS3GW_PROFILING_CONTINUOUS: 'true', RS3GW_PROFILING_CONTINUOUS_DURATION: '1.0001', RS3GW_PROFILING_CONTINUOUS_INTERVAL: '1.0004' }),
    (e: Error) => e.message === 'RS3GW_PROFILING_CONTINUOUS_DURATION: must be shorter than RS3GW_PROFILING_CONTINUOUS_INTERVAL, in whole milliseconds (1000 ms >= 1000 ms)',
  );
  assert.throws(
    () => loadConfig({ RS3GW_HEADERS_TIMEOUT: '1.0014', RS3GW_REQUEST_TIMEOUT: '1.0004' }),
    (e: Error) => e.message === 'RS3GW_HEADERS_TIMEOUT: must not exceed RS3GW_REQUEST_TIMEOUT, in whole milliseconds (1001 ms > 1000 ms)',
  );
  rejects({ RS3GW_RESOURCE_WINDOW: '3601' }, 'RS3GW_RESOURCE_WINDOW');
  assert.is(loadConfig({ RS3GW_RESOURCE_WINDOW: '3600' }).resourceWindow, 3600);
});

test('connection timeouts are durations, and a request may take at least as long as its headers', () => {
  const c = loadConfig({});
  // Node's own bounds for headers and requests.
  assert.equal([c.firstBytesTimeout, c.headersTimeout, c.requestTimeout], [10, 60, 300]);
  for (const name of ['RS3GW_FIRST_BYTES_TIMEOUT', 'RS3GW_HEADERS_TIMEOUT', 'RS3GW_REQUEST_TIMEOUT']) {
    for (const v of ['0', '0.0009', '2147483.648', 'soon']) rejects({ [name]: v }, name);
  }
  loadConfig({ RS3GW_FIRST_BYTES_TIMEOUT: '0.001', RS3GW_HEADERS_TIMEOUT: '0.001', RS3GW_REQUEST_TIMEOUT: '0.001' });
  loadConfig({ RS3GW_FIRST_BYTES_TIMEOUT: '2147483.647', RS3GW_HEADERS_TIMEOUT: '2147483.647', RS3GW_REQUEST_TIMEOUT: '2147483.647' });
  rejects({ RS3GW_HEADERS_TIMEOUT: '301' }, 'RS3GW_HEADERS_TIMEOUT');
  rejects({ RS3GW_HEADERS_TIMEOUT: '2', RS3GW_REQUEST_TIMEOUT: '1.5' }, 'RS3GW_HEADERS_TIMEOUT');
});

test('RS3GW_MAX_CONNECTIONS is a positive count or auto, and auto leaves descriptors for the service', () => {
  assert.is(loadConfig({}).maxConnections, 'auto');
  assert.is(loadConfig({ RS3GW_MAX_CONNECTIONS: 'AUTO' }).maxConnections, 'auto');
  assert.is(loadConfig({ RS3GW_MAX_CONNECTIONS: '500' }).maxConnections, 500);
  for (const v of ['0', '-1', 'many', '1.5']) rejects({ RS3GW_MAX_CONNECTIONS: v }, 'RS3GW_MAX_CONNECTIONS');
  const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                 4096                 files\n`;
  assert.is(connectionCapFromLimits(limits('1024')), 1024 - RESERVED_FILES);
  assert.is(connectionCapFromLimits(limits('100')), MIN_CONNECTION_CAP, 'a tight limit still takes a few connections');
  assert.is(connectionCapFromLimits(limits('unlimited')), undefined);
  assert.is(connectionCapFromLimits('no such line'), undefined);
});

test('thresholds lie above the hysteresis their engines keep below them', () => {
  for (const name of ['RS3GW_MEMORY_THRESHOLD', 'RS3GW_LOAD_SHEDDING_THRESHOLD']) {
    for (const v of ['0', '0.03', '0.05']) rejects({ [name]: v }, name);
  }
  const c = loadConfig({ RS3GW_MEMORY_THRESHOLD: '0.051', RS3GW_LOAD_SHEDDING_THRESHOLD: '0.051' });
  assert.is(c.memoryThreshold, 0.051);
  assert.is(c.loadSheddingThreshold, 0.051);
});

test('the PSI threshold is a percentage above 0 and below 100', () => {
  for (const v of ['0', '100', '-5', 'forty']) rejects({ RS3GW_PSI_THRESHOLD: v }, 'RS3GW_PSI_THRESHOLD');
  assert.is(loadConfig({}).psiThreshold, 40);
  assert.is(loadConfig({ RS3GW_PSI_THRESHOLD: '99' }).psiThreshold, 99);
});

test('counts and sizes stay within what their engines hold', () => {
  const limits: Array<[string, string, string]> = [
    ['RS3GW_MAX_MESSAGE_BYTES', '4294967295', '4294967296'],
    ['RS3GW_PROFILING_MAX_SNAPSHOTS', '10000', '100000000'],
    ['RS3GW_PROFILING_MAX_PROFILES', '100000', '100001'],
    ['RS3GW_PROFILING_MAX_PROFILE_BYTES', '17179869184', '17179869185'],
    ['RS3GW_ANOMALY_MAX_METRICS', '10000000', '10000001'],
    ['RS3GW_ANOMALY_HISTORY_SIZE', '10000000', '10000001'],
    ['RS3GW_ANOMALY_MAX_SUBSCRIBERS', '1000000', '1000001'],
    ['RS3GW_HEALTH_MAX_WATCHERS', '1000000', '1000001'],
    ['RS3GW_ANOMALY_SUBSCRIBER_QUEUE', '65536', '65537'],
    ['RS3GW_ANOMALY_MAX_SEASON_SLOTS', '2880000000', '2880000001'],
  ];
  for (const [name, largest, tooLarge] of limits) {
    loadConfig({ [name]: largest });
    rejects({ [name]: tooLarge }, name);
  }
});

test('RS3GW_ANOMALY_MAX_SEASON_SLOTS is a positive count or auto', () => {
  assert.is(loadConfig({}).anomalyMaxSeasonSlots, 'auto');
  assert.is(loadConfig({ RS3GW_ANOMALY_MAX_SEASON_SLOTS: '1' }).anomalyMaxSeasonSlots, 1);
  for (const v of ['0', '-1', '1.5', 'many']) rejects({ RS3GW_ANOMALY_MAX_SEASON_SLOTS: v }, 'RS3GW_ANOMALY_MAX_SEASON_SLOTS');
});

test('profiled pids are real process ids, at most 63 besides the service', () => {
  rejects({ RS3GW_PROFILING_PIDS: '999999999' }, 'RS3GW_PROFILING_PIDS');
  rejects({ RS3GW_PROFILING_PIDS: Array.from({ length: 64 }, (_, i) => i + 1).join(',') }, 'RS3GW_PROFILING_PIDS');
  assert.equal(loadConfig({ RS3GW_PROFILING_PIDS: '4194304, 7,7' }).profilingPids, [4194304, 7]);
  assert.is(loadConfig({ RS3GW_PROFILING_PIDS: Array.from({ length: 63 }, (_, i) => i + 1).join(',') }).profilingPids.length, 63);
});

test('the filesystem root must hold the CPU and memory figures start-up reads', () => {
  rejects({ RS3GW_FS_ROOT: '/nonexistent' }, 'RS3GW_FS_ROOT');
  const root = mkdtempSync(join(tmpdir(), 'rs3gw-root-'));
  try {
    mkdirSync(join(root, 'proc'));
    writeFileSync(join(root, 'proc', 'stat'), readFileSync('/proc/stat'));
    rejects({ RS3GW_FS_ROOT: root }, 'RS3GW_FS_ROOT'); // no proc/meminfo
    writeFileSync(join(root, 'proc', 'meminfo'), readFileSync('/proc/meminfo'));
    assert.is(loadConfig({ RS3GW_FS_ROOT: root }).fsRoot, root);
  } finally {
    rmSync(root, { recursive: true });
  }
});

test('booleans, ports, lists and choices are checked', () => {
  rejects({ RS3GW_PROFILING_ENABLED: 'maybe' }, 'RS3GW_PROFILING_ENABLED');
  rejects({ RS3GW_PORT: '70000' }, 'RS3GW_PORT');
  rejects({ RS3GW_PROFILING_PIDS: '12,abc' }, 'RS3GW_PROFILING_PIDS');
  rejects({ RS3GW_ADMISSION_CONTROLLER: 'magic' }, 'RS3GW_ADMISSION_CONTROLLER');
  rejects({ OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER');
  rejects({ OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER');
  rejects({}, '--port', new Map([['port', 'x']]));
});

test('RS3GW_ALLOWED_ORIGINS takes origins as browsers send them, or *, and refuses anything else naming the entry', () => {
  assert.equal(loadConfig({}).allowedOrigins, []);
  assert.equal(loadConfig({ RS3GW_ALLOWED_ORIGINS: ' HTTPS://Dash.Example:443, http://localhost:3000,,http://[::1]:8080, https://dash.example ' }).allowedOrigins, [
    'https://dash.example',
    'http://localhost:3000',
    'http://[::1]:8080',
  ]);
  assert.equal(loadConfig({ RS3GW_ALLOWED_ORIGINS: '*' }).allowedOrigins, ['*']);
  for (const [entry, why] of [
    ['https://dash.example/', 'no path'],
    ['https://dash.example/app', 'no path'],
    ['https://dash.example?x=1', 'no path'],
    ['dash.example', 'scheme'],
    ['ftp://dash.example', 'http or https'],
    ['https://user:pw@dash.example', 'user name'],
    ['https://dash.example:99999', 'port'],
    ['null', 'scheme'],
  ]) {
    rejects({ RS3GW_ALLOWED_ORIGINS: `https://ok.example,${entry}` }, 'RS3GW_ALLOWED_ORIGINS');
    try {
      loadConfig({ RS3GW_ALLOWED_ORIGINS: `https://ok.example,${entry}` });
    } catch (error) {
      assert.match((error as Error).message, `'${entry}' is not an origin`);
      assert.match((error as Error).message, why);
    }
  }
});

test('settings that must agree with each other are checked together', () => {
  rejects({ RS3GW_MIN_THREADS: '8', RS3GW_MAX_THREADS: '4' }, 'RS3GW_MIN_THREADS');
  rejects({ ...SEED, RS3GW_MIN_RATE_LIMIT: '500', RS3GW_MAX_RATE_LIMIT: '400', RS3GW_INITIAL_RATE_LIMIT: '450' }, 'RS3GW_MIN_RATE_LIMIT');
  rejects({ ...SEED, RS3GW_INITIAL_RATE_LIMIT: '50' }, 'RS3GW_INITIAL_RATE_LIMIT');
  rejects({ RS3GW_PROFILING_CONTINUOUS: 'true', RS3GW_PROFILING_CONTINUOUS_DURATION: '60' }, 'RS3GW_PROFILING_CONTINUOUS_DURATION');
});

test('of two settings that must agree, the message names the one set, saying the other is its default', () => {
  const message = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      return (error as Error).message;
    }
    return 'accepted';
  };
  assert.is(message({ RS3GW_REQUEST_TIMEOUT: '30' }), 'RS3GW_REQUEST_TIMEOUT: must be at least RS3GW_HEADERS_TIMEOUT, in whole milliseconds, which is 60000 ms by default; got 30000 ms');
  assert.is(message({ RS3GW_HEADERS_TIMEOUT: '400' }), "RS3GW_HEADERS_TIMEOUT: must not exceed RS3GW_REQUEST_TIMEOUT, in whole milliseconds (400000 ms > 300000 ms, RS3GW_REQUEST_TIMEOUT's default)");
  assert.is(message({ RS3GW_MAX_THREADS: '2' }), 'RS3GW_MAX_THREADS: must be at least RS3GW_MIN_THREADS, which is 4 by default; got 2');
  assert.is(message({ ...SEED, RS3GW_MAX_RATE_LIMIT: '50' }), 'RS3GW_MAX_RATE_LIMIT: must be at least RS3GW_MIN_RATE_LIMIT, which is 100 by default; got 50');
  assert.is(message({ ...SEED, RS3GW_MAX_RATE_LIMIT: '500' }), 'RS3GW_MAX_RATE_LIMIT: must be at least RS3GW_INITIAL_RATE_LIMIT, which is 1000 by default; got 500');
  assert.is(message({ ...SEED, RS3GW_MIN_RATE_LIMIT: '2000' }), "RS3GW_MIN_RATE_LIMIT: must not exceed RS3GW_INITIAL_RATE_LIMIT (2000 > 1000, RS3GW_INITIAL_RATE_LIMIT's default)");
  assert.is(message({ ...SEED, RS3GW_INITIAL_RATE_LIMIT: '50' }), 'RS3GW_INITIAL_RATE_LIMIT: must lie within [RS3GW_MIN_RATE_LIMIT, RS3GW_MAX_RATE_LIMIT] = [100 (default), 10000 (default)], got 50');
  assert.is(
    message({ ...SEED, RS3GW_INITIAL_RATE_LIMIT: '50', RS3GW_MIN_RATE_LIMIT: '200', RS3GW_MAX_RATE_LIMIT: '300' }),
    'RS3GW_INITIAL_RATE_LIMIT: must lie within [RS3GW_MIN_RATE_LIMIT, RS3GW_MAX_RATE_LIMIT] = [200, 300], got 50',
  );
  assert.is(
    message({ RS3GW_PROFILING_CONTINUOUS: 'true', RS3GW_PROFILING_CONTINUOUS_INTERVAL: '5' }),
    'RS3GW_PROFILING_CONTINUOUS_INTERVAL: must be longer than RS3GW_PROFILING_CONTINUOUS_DURATION, in whole milliseconds, which is 10000 ms by default; got 5000 ms',
  );
  // Continuous profiling is off by default, and then nothing reads the pair: start-up says so.
  const off = loadConfig({ RS3GW_PROFILING_CONTINUOUS_INTERVAL: '5' });
  assert.is(off.profilingContinuousInterval, 5);
  assert.equal(off.ignored, ['RS3GW_PROFILING_CONTINUOUS_INTERVAL ignored: RS3GW_PROFILING_CONTINUOUS is false, and only background profiling reads it']);
  assert.equal(
    loadConfig({ RS3GW_PROFILING_CONTINUOUS_INTERVAL: '5', RS3GW_PROFILING_CONTINUOUS_DURATION: '1' }).ignored,
    ['RS3GW_PROFILING_CONTINUOUS_INTERVAL, RS3GW_PROFILING_CONTINUOUS_DURATION ignored: RS3GW_PROFILING_CONTINUOUS is false, and only background profiling reads them'],
  );
  assert.equal(loadConfig({ RS3GW_PROFILING_CONTINUOUS: 'true', RS3GW_PROFILING_CONTINUOUS_INTERVAL: '60' }).ignored, []);
});

test('a variable a typo away from a setting is reported as ignored, naming the setting; the gateway\'s own are left alone', () => {
  const env = {
    RS3GW_PROFILNG_PIDS: '4242', // a letter dropped
    RS3GW_PROFILING_INTERVLA: '5', // two swapped
    rs3gw_port: '9', // wrong case
    RS3GW_STORAGE_ROOT: '/srv/data', // rs3gw's own: nothing like ours
    RS3GW_ROOT: '/srv', // two letters from RS3GW_HOST, but a short name allows one
    RS3GW_CERT: 'x.pem', // two from RS3GW_PORT
    RS3GW_POOL: '4',
    RS3GW_PORT: '8080',
  };
  const config = loadConfig(env);
  assert.equal(config.ignored, [
    'RS3GW_PROFILING_INTERVLA ignored: it is no setting of this service; did you mean RS3GW_PROFILING_INTERVAL? (see --help)',
    'RS3GW_PROFILNG_PIDS ignored: it is no setting of this service; did you mean RS3GW_PROFILING_PIDS? (see --help)',
    'rs3gw_port ignored: it is no setting of this service; did you mean RS3GW_PORT? (see --help)',
  ]);
  assert.equal(config.profilingPids, [], 'the misspelt variable is not read');
  assert.is(config.port, 8080);
});

test('the seed controller\'s rate settings, set under another controller, are reported as ignored', () => {
  assert.equal(loadConfig({}).ignored, []);
  // Under the adaptive controller the token bucket's rates are not read, so they need not agree.
  assert.equal(loadConfig({ RS3GW_MAX_RATE_LIMIT: '50' }).ignored.length, 1);
  assert.equal(loadConfig({ RS3GW_INITIAL_RATE_LIMIT: '1500', RS3GW_MAX_RATE_LIMIT: '20000' }).ignored, [
    "RS3GW_INITIAL_RATE_LIMIT, RS3GW_MAX_RATE_LIMIT ignored: the admission controller is 'adaptive', and only the seed controller's token bucket reads them (RS3GW_ADMISSION_CONTROLLER=seed)",
  ]);
  assert.equal(loadConfig({ RS3GW_INITIAL_RATE_LIMIT: '1500', RS3GW_ADMISSION_CONTROLLER: 'seed' }).ignored, []);
  assert.equal(loadConfig({ RS3GW_INITIAL_RATE_LIMIT: '1500', RS3GW_ADAPTIVE_RATE_LIMIT: 'false' }).ignored, [], 'a fixed rate selects the seed controller');
});

test('RS3GW_HOST takes an IPv6 address in brackets, as the listening line shows it; numbers are decimal only', () => {
  assert.is(loadConfig({ RS3GW_HOST: '[::1]' }).host, '::1');
  assert.is(loadConfig({}, new Map([['host', '[::1]']])).host, '::1');
  rejects({ RS3GW_HOST: '[localhost]' }, 'RS3GW_HOST');
  // The kernel binds these, but no connection reaches a multicast or broadcast address.
  for (const host of ['224.0.0.1', '239.255.255.250', '255.255.255.255', 'ff02::1', '[ff02::1]', '::ffff:224.0.0.1', '[::FFFF:255.255.255.255]']) rejects({ RS3GW_HOST: host }, 'RS3GW_HOST');
  assert.is(loadConfig({ RS3GW_HOST: '::ffff:127.0.0.1' }).host, '::ffff:127.0.0.1');
  for (const bad of ['0x10', '1e3', '0b1', '0o7', 'Infinity', '1_000']) rejects({ RS3GW_SHUTDOWN_GRACE: bad }, 'RS3GW_SHUTDOWN_GRACE');
  for (const bad of ['0x1', '.5e0']) rejects({ RS3GW_TARGET_CPU: bad }, 'RS3GW_TARGET_CPU');
  assert.is(loadConfig({ RS3GW_SHUTDOWN_GRACE: '16' }).shutdownGraceSeconds, 16);
  assert.is(loadConfig({ RS3GW_SHUTDOWN_GRACE: '0.5' }).shutdownGraceSeconds, 0.5);
  assert.is(loadConfig({ RS3GW_TARGET_CPU: '.5' }).targetCpu, 0.5);
});

test('a fixed rate is the seed controller: alone it selects it, against an explicit adaptive controller it is refused', () => {
  assert.is(loadConfig({}).admissionController, 'adaptive');
  assert.is(loadConfig({ RS3GW_ADAPTIVE_RATE_LIMIT: 'false' }).admissionController, 'seed', 'what runs is what the config names');
  assert.is(loadConfig({ RS3GW_ADAPTIVE_RATE_LIMIT: 'false', RS3GW_ADMISSION_CONTROLLER: ' ' }).admissionController, 'seed', 'blank is unset');
  assert.is(loadConfig({ RS3GW_ADAPTIVE_RATE_LIMIT: 'false', RS3GW_ADMISSION_CONTROLLER: 'seed' }).admissionController, 'seed');
  assert.is(loadConfig({ RS3GW_ADAPTIVE_RATE_LIMIT: 'true', RS3GW_ADMISSION_CONTROLLER: 'adaptive' }).admissionController, 'adaptive');
  rejects({ RS3GW_ADAPTIVE_RATE_LIMIT: 'false', RS3GW_ADMISSION_CONTROLLER: 'adaptive' }, 'RS3GW_ADMISSION_CONTROLLER');
  assert.throws(
    () => loadConfig({ RS3GW_ADAPTIVE_RATE_LIMIT: 'off', RS3GW_ADMISSION_CONTROLLER: 'adaptive' }),
    (error: Error) => error.message.includes('RS3GW_ADAPTIVE_RATE_LIMIT=false'),
    'the message names the other variable',
  );
  // A fixed rate never adapts: the bounds of the adaptation neither bind it nor are read.
  const fixed = loadConfig({ RS3GW_ADAPTIVE_RATE_LIMIT: 'false', RS3GW_INITIAL_RATE_LIMIT: '50' });
  assert.equal([fixed.initialRateLimit, fixed.ignored], [50, []]);
  const bounded = loadConfig({ RS3GW_ADAPTIVE_RATE_LIMIT: 'false', RS3GW_INITIAL_RATE_LIMIT: '50', RS3GW_MAX_RATE_LIMIT: '40' });
  assert.equal(bounded.ignored, ['RS3GW_MAX_RATE_LIMIT ignored: RS3GW_ADAPTIVE_RATE_LIMIT=false holds the rate at RS3GW_INITIAL_RATE_LIMIT, which the bounds of its adaptation do not limit']);
  assert.is(new SeedRuleController(0, { adaptive: false, initialRps: 50 }).limit, 50);
});

test('the command line knows serve, --help and --version, and nothing else', () => {
  assert.is(parseCommandLine([]).command, 'serve');
  assert.is(parseCommandLine(['serve']).command, 'serve');
  assert.is(parseCommandLine(['--help']).command, 'help');
  assert.is(parseCommandLine(['serve', '-h']).command, 'help');
  assert.is(parseCommandLine(['--version']).command, 'version');
  assert.throws(() => parseCommandLine(['serve', '--bogus', '1']), (e: Error) => e.message.startsWith('--bogus:'));
  assert.throws(() => parseCommandLine(['launch']), (e: Error) => e.message.startsWith('launch:'));
  assert.throws(() => parseCommandLine(['serve', '--port']), (e: Error) => e.message.startsWith('--port:'));
});

test('OTLP export is on only when an endpoint or an exporter is configured', () => {
  assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).telemetry.exporters, ['otlp']);
  assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp' }).telemetry.exporters, ['otlp']);
  const t = loadConfig({ OTEL_SERVICE_NAME: 'gw', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=storage' }).telemetry;
  assert.is(t.serviceName, 'gw');
  assert.equal(t.resourceAttributes, { 'deployment.environment': 'prod', team: 'storage' });
});

test('OTLP endpoints must be http(s) URLs; gRPC also takes host:port', () => {
  for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) {
    for (const v of ['not a url', 'ftp://x', '::::', 'collector:4318', 'http://']) rejects({ [name]: v }, name);
    assert.equal(loadConfig({ [name]: 'https://collector.example:4318/base' }).telemetry.exporters, ['otlp']);
  }
  // The traces endpoint wins, but a wrong general one is still reported.
  rejects({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const grpc = { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
  assert.equal(loadConfig({ ...grpc, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' }).telemetry.exporters, ['otlp']);
  assert.equal(loadConfig({ ...grpc, OTEL_EXPORTER_OTLP_ENDPOINT: 'unix:///run/otel.sock' }).telemetry.exporters, ['otlp']);
  // A socket needs its path: every export to 'unix://' failed 'connect ECONNREFUSED //'.
  for (const v of ['unix://', 'unix:///']) rejects({ ...grpc, OTEL_EXPORTER_OTLP_ENDPOINT: v }, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  rejects({ ...grpc, OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  rejects({ ...grpc, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://x' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
});

test('OTEL_* variables that are empty or blank count as unset, as OpenTelemetry specifies', () => {
  const blank = {
    OTEL_TRACES_SAMPLER: '',
    OTEL_TRACES_SAMPLER_ARG: ' ',
    OTEL_TRACES_EXPORTER: '',
    OTEL_EXPORTER_OTLP_PROTOCOL: ' ',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: '',
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: ' ',
    OTEL_SERVICE_NAME: ' ',
    OTEL_RESOURCE_ATTRIBUTES: ' ',
    OTEL_SDK_DISABLED: '',
    OTEL_PROPAGATORS: ' ',
    OTEL_LOG_LEVEL: '',
    OTEL_BSP_SCHEDULE_DELAY: ' ',
    OTEL_BSP_EXPORT_TIMEOUT: '',
    OTEL_BSP_MAX_QUEUE_SIZE: ' ',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '',
  };
  assert.equal(loadConfig(blank).telemetry, loadConfig({}).telemetry);
  const t = loadConfig({ ...blank, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_TRACES_SAMPLER_ARG: '' }).telemetry;
  assert.is(t.protocol, 'grpc');
  assert.equal(t.exporters, []);
});

test('resource attributes must be percent-encoded correctly', () => {
  rejects({ OTEL_RESOURCE_ATTRIBUTES: 'a=%zz' }, 'OTEL_RESOURCE_ATTRIBUTES');
  rejects({ OTEL_RESOURCE_ATTRIBUTES: 'ok=1,%E0%A4%A=x' }, 'OTEL_RESOURCE_ATTRIBUTES');
  assert.equal(loadConfig({ OTEL_RESOURCE_ATTRIBUTES: 'team=storage%2Cops' }).telemetry.resourceAttributes, { team: 'storage,ops' });
});

test('the README documents every setting as --help does', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const s of Object.values(SETTINGS)) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${s.env}\` |`));
    assert.ok(row, `README lacks ${s.env}`);
    // The meaning column repeats --help, ranges included, so the two cannot drift apart.
    assert.ok(row.endsWith(` ${s.help} |`), `README's ${s.env} says what --help says: ${row}`);
  }
  for (const v of TELEMETRY_VARIABLES) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${v.env}\` |`));
    assert.is(row, `| \`${v.env}\` | ${v.default || '(none)'} | ${v.help} |`, `README's ${v.env} row says what --help says`);
  }
});

test.run();
