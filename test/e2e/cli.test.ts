/**
 * The command line as an operator meets it: `--help` documents every RS3GW_* variable, a bad
 * setting stops start-up with exit code 2 and a message naming it, and the listening address
 * follows --host/--port and RS3GW_HOST/RS3GW_PORT (flags winning).
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { SETTINGS } from '../../src/config/settings.js';
import { TELEMETRY_VARIABLES } from '../../src/config/telemetry.js';
import { CLI, REPO_ROOT, runCommand } from '../support/server.js';
import { freePort, within } from './support/rpc-helpers.js';

/** Runs the CLI to completion (a bad setting must end it at once). */
function cli(args: string[], env: Record<string, string> = {}) {
  return runCommand(process.execPath, [CLI, ...args], { env, timeoutMs: 20_000 });
}

/** Starts `serve` exactly as given (no --port 0 added) and returns the address it announces. */
async function serve(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await within(
    new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        output += d;
        const m = /listening on (http:\/\/\S+)/.exec(output);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
    }),
    'the server to listen',
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    url,
    /** What it printed so far, stdout and stderr. */
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      return within(exited, 'the server to exit');
    },
  };
}

/** Every RS3GW_* name the service's source mentions (to catch one read but not documented). */
function variablesInSource(dir = join(REPO_ROOT, 'src')): Set<string> {
  const found = new Set<string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) variablesInSource(path).forEach((v) => found.add(v));
    else if (entry.name.endsWith('.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/\bRS3GW_[A-Z0-9_]+/g)) found.add(m[0]);
  }
  return found;
}

test('--help lists every RS3GW_* and OTEL_* variable with its default, and exits 0', async () => {
  const { code, stdout, stderr } = await cli(['--help']);
  assert.is(code, 0, stderr);
  assert.match(stdout, /^Usage: rs3gw-obs serve/);
  for (const setting of Object.values(SETTINGS)) {
    const line = stdout.split('\n').find((l) => l.trimStart().startsWith(`${setting.env} `) || l.trimStart().startsWith(`${setting.env}\t`));
    assert.ok(line, `${setting.env} is listed`);
    if (setting.default !== '') assert.ok(line!.includes(`[${setting.default}]`), `${setting.env} shows its default: ${line}`);
    const flag: string | undefined = setting.flag;
    if (flag) assert.ok(line!.includes(`--${flag}`), `${setting.env} shows --${flag}`);
  }
  for (const variable of variablesInSource()) assert.match(stdout, variable, `${variable} (read in src/) is documented in --help`);
  for (const v of TELEMETRY_VARIABLES) {
    const line = stdout.split('\n').find((l) => l.trimStart().startsWith(`${v.env} `));
    assert.ok(line?.includes(v.help), `${v.env} is listed with what it means: ${line}`);
    if (v.default !== '') assert.ok(line!.includes(`[${v.default}]`), `${v.env} shows its default: ${line}`);
  }
});

test('-h and the help command print the same help', async () => {
  const long = await cli(['--help']);
  for (const args of [['-h'], ['help'], ['serve', '--help']]) {
    const { code, stdout } = await cli(args);
    assert.is(code, 0, args.join(' '));
    assert.is(stdout, long.stdout, args.join(' '));
  }
});

test('--version prints the package version and exits 0', async () => {
  const { code, stdout } = await cli(['--version']);
  assert.is(code, 0);
  const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.is(stdout.trim(), version);
});

const INVALID: Array<{ kind: string; env?: Record<string, string>; args?: string[]; names: string }> = [
  { kind: 'fraction above 1', env: { RS3GW_TARGET_CPU: '1.5' }, names: 'RS3GW_TARGET_CPU' },
  { kind: 'target CPU of 0', env: { RS3GW_TARGET_CPU: '0' }, names: 'RS3GW_TARGET_CPU' },
  { kind: 'negative fraction', env: { RS3GW_MEMORY_THRESHOLD: '-0.1' }, names: 'RS3GW_MEMORY_THRESHOLD' },
  { kind: 'fraction that is no number', env: { RS3GW_LOAD_SHEDDING_THRESHOLD: 'high' }, names: 'RS3GW_LOAD_SHEDDING_THRESHOLD' },
  { kind: 'non-integer count', env: { RS3GW_MAX_PERMITS: '2.5' }, names: 'RS3GW_MAX_PERMITS' },
  { kind: 'zero count', env: { RS3GW_ANOMALY_HISTORY_SIZE: '0' }, names: 'RS3GW_ANOMALY_HISTORY_SIZE' },
  { kind: 'negative duration', env: { RS3GW_PROFILING_INTERVAL: '-5' }, names: 'RS3GW_PROFILING_INTERVAL' },
  { kind: 'profiling interval beyond the longest timer', env: { RS3GW_PROFILING_INTERVAL: '2592000' }, names: 'RS3GW_PROFILING_INTERVAL' },
  { kind: 'pool adjustment interval beyond the longest timer', env: { RS3GW_ADJUSTMENT_INTERVAL: '3000000' }, names: 'RS3GW_ADJUSTMENT_INTERVAL' },
  { kind: 'shutdown grace beyond the longest timer', env: { RS3GW_SHUTDOWN_GRACE: '3000000' }, names: 'RS3GW_SHUTDOWN_GRACE' },
  { kind: 'continuous-profile interval beyond a day', env: { RS3GW_PROFILING_CONTINUOUS: 'true', RS3GW_PROFILING_CONTINUOUS_INTERVAL: '2592000' }, names: 'RS3GW_PROFILING_CONTINUOUS_INTERVAL' },
  { kind: 'CPU profile limit beyond an hour', env: { RS3GW_PROFILING_MAX_SECONDS: '3000000' }, names: 'RS3GW_PROFILING_MAX_SECONDS' },
  { kind: 'resource window beyond an hour', env: { RS3GW_RESOURCE_WINDOW: '3601' }, names: 'RS3GW_RESOURCE_WINDOW' },
  { kind: 'bad boolean', env: { RS3GW_PROFILING_ENABLED: 'maybe' }, names: 'RS3GW_PROFILING_ENABLED' },
  { kind: 'host with a space', env: { RS3GW_HOST: 'my host' }, names: 'RS3GW_HOST' },
  { kind: 'host name that does not resolve', env: { RS3GW_HOST: 'notahost.invalid' }, names: 'RS3GW_HOST (--host)' },
  { kind: 'dotted host that is no IPv4 address', env: { RS3GW_HOST: '999.1.1.1' }, names: 'RS3GW_HOST (--host)' },
  { kind: '--host that does not resolve', args: ['--host', '999.1.1.1'], names: 'RS3GW_HOST (--host)' },
  { kind: 'host address of another machine (TEST-NET-1)', env: { RS3GW_HOST: '192.0.2.1' }, names: 'RS3GW_HOST (--host)' },
  // listen() fails EINVAL: the kernel cannot tell which link is meant (a stack trace and exit 1 before).
  { kind: 'link-local IPv6 host without its interface', env: { RS3GW_HOST: 'fe80::1' }, names: 'RS3GW_HOST (--host)' },
  { kind: 'multicast host', env: { RS3GW_HOST: '224.0.0.1' }, names: 'RS3GW_HOST' },
  { kind: 'port out of range', env: { RS3GW_PORT: '70000' }, names: 'RS3GW_PORT' },
  { kind: 'port that is no number', env: { RS3GW_PORT: 'http' }, names: 'RS3GW_PORT' },
  { kind: 'bad --port', args: ['--port', '-1'], names: '--port' },
  { kind: '--port without a value', args: ['--port'], names: '--port' },
  { kind: 'unknown flag', args: ['--verbose'], names: '--verbose' },
  { kind: 'unknown command', args: ['start'], names: 'start' },
  { kind: 'unknown choice', env: { RS3GW_ADMISSION_CONTROLLER: 'fastest' }, names: 'RS3GW_ADMISSION_CONTROLLER' },
  { kind: 'inconsistent pair', env: { RS3GW_MIN_THREADS: '64', RS3GW_MAX_THREADS: '8' }, names: 'RS3GW_MIN_THREADS' },
  { kind: 'adaptive controller with a fixed rate', env: { RS3GW_ADMISSION_CONTROLLER: 'adaptive', RS3GW_ADAPTIVE_RATE_LIMIT: 'false' }, names: 'RS3GW_ADMISSION_CONTROLLER' },
  { kind: 'bad pid list', env: { RS3GW_PROFILING_PIDS: '1,two' }, names: 'RS3GW_PROFILING_PIDS' },
  { kind: 'filesystem root without /proc', env: { RS3GW_FS_ROOT: '/nonexistent' }, names: 'RS3GW_FS_ROOT' },
  { kind: 'pid beyond the kernel limit', env: { RS3GW_PROFILING_PIDS: '999999999' }, names: 'RS3GW_PROFILING_PIDS' },
  { kind: 'memory threshold within its hysteresis', env: { RS3GW_MEMORY_THRESHOLD: '0.05' }, names: 'RS3GW_MEMORY_THRESHOLD' },
  { kind: 'message limit beyond 32 bits', env: { RS3GW_MAX_MESSAGE_BYTES: '4294967296' }, names: 'RS3GW_MAX_MESSAGE_BYTES' },
  { kind: 'allowed origin with a path', env: { RS3GW_ALLOWED_ORIGINS: 'https://dash.example:3000,https://evil.example/' }, names: 'RS3GW_ALLOWED_ORIGINS' },
  { kind: 'allowed origin without a scheme', env: { RS3GW_ALLOWED_ORIGINS: 'dash.example' }, names: 'RS3GW_ALLOWED_ORIGINS' },
  { kind: 'allowed origin with a wildcard host', env: { RS3GW_ALLOWED_ORIGINS: 'https://*.example.com' }, names: 'RS3GW_ALLOWED_ORIGINS' },
  { kind: 'bad OTEL sampler', env: { OTEL_TRACES_SAMPLER: 'sometimes' }, names: 'OTEL_TRACES_SAMPLER' },
  { kind: 'malformed OTLP endpoint', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, names: 'OTEL_EXPORTER_OTLP_ENDPOINT' },
  { kind: 'base endpoint with a query for OTLP/HTTP', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/base?key=secret' }, names: 'OTEL_EXPORTER_OTLP_ENDPOINT' },
  { kind: 'timeout of the OTLP exporter that is no number', env: { OTEL_EXPORTER_OTLP_TIMEOUT: 'abc' }, names: 'OTEL_EXPORTER_OTLP_TIMEOUT' },
  { kind: 'negative timeout of the OTLP exporter for spans', env: { OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '-5' }, names: 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT' },
  { kind: 'compression the OTLP exporter lacks', env: { OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' }, names: 'OTEL_EXPORTER_OTLP_COMPRESSION' },
  { kind: 'certificate file for OTLP that does not exist', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://127.0.0.1:4318', OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent' }, names: 'OTEL_EXPORTER_OTLP_CERTIFICATE' },
  { kind: 'client key for OTLP without its certificate', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://127.0.0.1:4318', OTEL_EXPORTER_OTLP_CLIENT_KEY: 'test/fixtures/tls/server-key.pem' }, names: 'OTEL_EXPORTER_OTLP_CLIENT_KEY' },
  { kind: 'badly percent-encoded resource attribute', env: { OTEL_RESOURCE_ATTRIBUTES: 'a=%zz' }, names: 'OTEL_RESOURCE_ATTRIBUTES' },
  { kind: 'log level OpenTelemetry does not define', env: { OTEL_LOG_LEVEL: 'loud' }, names: 'OTEL_LOG_LEVEL' },
  { kind: 'fractional span export delay', env: { OTEL_BSP_SCHEDULE_DELAY: '0.5' }, names: 'OTEL_BSP_SCHEDULE_DELAY' },
  { kind: 'zero span export timeout', env: { OTEL_BSP_EXPORT_TIMEOUT: '0' }, names: 'OTEL_BSP_EXPORT_TIMEOUT' },
  { kind: 'span batch larger than the span queue', env: { OTEL_BSP_MAX_QUEUE_SIZE: '64', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '128' }, names: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE' },
  { kind: 'propagator this service does not include', env: { OTEL_PROPAGATORS: 'tracecontext,b3' }, names: 'OTEL_PROPAGATORS' },
  { kind: 'list of exporters naming one that does not exist', env: { OTEL_TRACES_EXPORTER: 'otlp,zipkin' }, names: 'OTEL_TRACES_EXPORTER' },
  { kind: 'non-boolean OTEL_SDK_DISABLED', env: { OTEL_SDK_DISABLED: 'yes' }, names: 'OTEL_SDK_DISABLED' },
  { kind: 'bad OTEL sampler ratio', env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }, names: 'OTEL_TRACES_SAMPLER_ARG' },
];

for (const c of INVALID) {
  test(`a ${c.kind} stops start-up with exit code 2 naming ${c.names}`, async () => {
    // Port 0 unless the case is about the port, so a wrongly accepted value cannot clash with 9000.
    const portArgs = c.args?.some((a) => a.startsWith('--port')) || c.env?.RS3GW_PORT ? [] : ['--port', '0'];
    const args = c.args?.[0] === 'start' ? c.args : ['serve', ...portArgs, ...(c.args ?? [])];
    const { code, stdout, stderr } = await cli(args, c.env);
    assert.is(code, 2, `exit code\nstdout: ${stdout}\nstderr: ${stderr}`);
    assert.ok(stderr.startsWith(`rs3gw-obs: ${c.names}: `), `stderr names ${c.names}: ${stderr}`);
    assert.is(stderr.trim().split('\n').length, 1, `one line, no stack trace: ${stderr}`);
    assert.not.match(stdout, 'listening on');
  });
}

test('an argument given to a sampler that takes none is ignored: the service starts and drains', async () => {
  const server = await serve(['--port', '0'], { OTEL_TRACES_SAMPLER: 'always_on', OTEL_TRACES_SAMPLER_ARG: 'abc', OTEL_TRACES_EXPORTER: 'console' });
  assert.is(await server.stop(), 0);
});

test('a low RS3GW_TARGET_CPU keeps the service running through its pool adjustments', async () => {
  const server = await serve(['--port', '0'], { RS3GW_TARGET_CPU: '0.02', RS3GW_ADJUSTMENT_INTERVAL: '0.1' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const client = createObservabilityClient(server.url, { protocol: 'grpc' });
    const { status } = await within(client.resources.getResources({}), 'GetResources after ten adjustments');
    assert.is(status?.pool?.targetCpu, 0.02);
  } finally {
    assert.is(await server.stop(), 0);
  }
});

test('a /proc that becomes unreadable after start-up leaves the service running on its last pressure reading', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rs3gw-fsroot-'));
  cpSync(join(REPO_ROOT, 'test/fixtures/procfs/cgroup-v2-limited'), root, { recursive: true });
  const server = await serve(['--port', '0'], { RS3GW_FS_ROOT: root });
  try {
    rmSync(join(root, 'proc/stat'));
    rmSync(join(root, 'proc/meminfo'));
    // The pressure monitor samples every second: two samples fail meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const client = createObservabilityClient(server.url, { protocol: 'grpc' });
    const { status } = await within(client.resources.getResources({}), 'GetResources after /proc went away');
    assert.ok((status?.admission?.limit ?? 0) > 0, 'the admission limit is still reported');
  } finally {
    assert.is(await server.stop(), 0, 'exit code after SIGTERM');
    rmSync(root, { recursive: true, force: true });
  }
});

test('settings at the edges of their documented ranges start and drain', async () => {
  const server = await serve(['--port', '0'], {
    RS3GW_MAX_MESSAGE_BYTES: '4294967295',
    RS3GW_PROFILING_PIDS: Array.from({ length: 62 }, (_, i) => i + 1).concat(4194304).join(','),
    // A /proc with none of these pids: on the test machine one of them may be a thread id, which stops start-up.
    RS3GW_FS_ROOT: join(REPO_ROOT, 'test/fixtures/procfs/cgroup-v2-limited'),
    RS3GW_PROFILING_MAX_SNAPSHOTS: '10000',
    RS3GW_PROFILING_MAX_PROFILES: '100000',
    RS3GW_PROFILING_MAX_PROFILE_BYTES: '17179869184',
    RS3GW_ANOMALY_MAX_METRICS: '10000000',
    RS3GW_ANOMALY_HISTORY_SIZE: '10000000',
    RS3GW_ANOMALY_MAX_SUBSCRIBERS: '1000000',
    RS3GW_ANOMALY_SUBSCRIBER_QUEUE: '65536',
    RS3GW_MEMORY_THRESHOLD: '0.051',
    RS3GW_LOAD_SHEDDING_THRESHOLD: '0.051',
    RS3GW_SHUTDOWN_GRACE: '2147483.647',
    RS3GW_ADJUSTMENT_INTERVAL: '2147483.647',
    RS3GW_PROFILING_MAX_SECONDS: '3600',
    RS3GW_RESOURCE_WINDOW: '3600',
    // Fractions of a millisecond, which the continuous profiler does not take.
    RS3GW_PROFILING_CONTINUOUS: 'true',
    RS3GW_PROFILING_CONTINUOUS_INTERVAL: '86399.9995',
    RS3GW_PROFILING_CONTINUOUS_DURATION: '0.0015',
  });
  assert.is(await server.stop(), 0);
});

test('--host and --port choose the listening address', async () => {
  const port = await freePort();
  const server = await serve(['--host', '127.0.0.2', '--port', String(port)], {});
  try {
    assert.is(server.url, `http://127.0.0.2:${port}`);
    const client = createObservabilityClient(server.url, { protocol: 'grpc' });
    const { processes } = await within(client.profiling.listProcesses({}), 'ListProcesses on --host/--port');
    assert.ok(processes.some((p) => p.self));
  } finally {
    assert.is(await server.stop(), 0);
  }
});

test('RS3GW_HOST and RS3GW_PORT choose it when no flag is given, and flags win over them', async () => {
  const [fromEnv, fromFlag] = [await freePort(), await freePort()];
  const byEnv = await serve([], { RS3GW_HOST: '127.0.0.3', RS3GW_PORT: String(fromEnv) });
  try {
    assert.is(byEnv.url, `http://127.0.0.3:${fromEnv}`);
    const client = createObservabilityClient(byEnv.url, { protocol: 'grpc' });
    await within(client.profiling.listProcesses({}), 'ListProcesses on RS3GW_HOST/RS3GW_PORT');
  } finally {
    assert.is(await byEnv.stop(), 0);
  }
  const byFlag = await serve(['--port', String(fromFlag), '--host=127.0.0.4'], { RS3GW_HOST: '127.0.0.3', RS3GW_PORT: String(fromEnv) });
  try {
    assert.is(byFlag.url, `http://127.0.0.4:${fromFlag}`);
    const client = createObservabilityClient(byFlag.url, { protocol: 'grpc' });
    await within(client.profiling.listProcesses({}), 'ListProcesses on the flags');
  } finally {
    assert.is(await byFlag.stop(), 0);
  }
});

test('a fixed rate alone runs the seed controller, says so at start-up, and GetResources names it as the setting does', async () => {
  const contradiction = await cli(['serve', '--port', '0'], { RS3GW_ADMISSION_CONTROLLER: 'adaptive', RS3GW_ADAPTIVE_RATE_LIMIT: 'false' });
  assert.match(contradiction.stderr, /RS3GW_ADMISSION_CONTROLLER: .*RS3GW_ADAPTIVE_RATE_LIMIT=false/);
  for (const [env, controller] of [
    [{}, 'adaptive'],
    [{ RS3GW_ADMISSION_CONTROLLER: 'seed' }, 'seed'],
    [{ RS3GW_ADAPTIVE_RATE_LIMIT: 'false', RS3GW_INITIAL_RATE_LIMIT: '300' }, 'seed'],
  ] as const) {
    const server = await serve(['--port', '0'], env);
    try {
      const status = await within(createObservabilityClient(server.url).resources.getResources({}), 'GetResources');
      assert.is(status.status?.admission?.controller, controller, JSON.stringify(env));
      if ('RS3GW_ADAPTIVE_RATE_LIMIT' in env) assert.match(server.output(), "admission by the seed controller's token bucket, fixed at 300 requests/s");
    } finally {
      assert.is(await server.stop(), 0);
    }
  }
});

test('listening on an address that is not loopback says on stderr, once, that anyone who can reach it can read everything; the default says nothing', async () => {
  const open = await serve(['--host', '0.0.0.0', '--port', '0'], {});
  assert.is(await open.stop(), 0);
  const lines = open.output().split('\n').filter((l) => l.includes('loopback'));
  const port = new URL(open.url).port;
  assert.equal(lines, [
    `rs3gw-obs: RS3GW_HOST (--host) is 0.0.0.0, not a loopback address: the service has no authentication, and anyone who can reach port ${port} on any address of this machine can read its profiles, pprof captures, metrics and the watched processes' figures; listen on 127.0.0.1 or put an authenticating proxy in front`,
  ]);
  for (const [args, env] of [[[], {}], [['--host', 'localhost'], {}], [[], { RS3GW_HOST: '127.0.0.5' }], [[], { RS3GW_HOST: '::1' }]] as const) {
    const local = await serve([...args, '--port', '0'], env);
    assert.is(await local.stop(), 0);
    assert.not.match(local.output(), /loopback|authentication/, `${args.join(' ')} ${JSON.stringify(env)}`);
  }
});

test('RS3GW_HOST in brackets, as the listening line prints an IPv6 address, listens there', async () => {
  const server = await serve(['--port', '0'], { RS3GW_HOST: '[::1]' });
  try {
    assert.match(server.url, /^http:\/\/\[::1\]:\d+$/);
    await within(createObservabilityClient(server.url, { protocol: 'grpc' }).profiling.listProcesses({}), 'ListProcesses on [::1]');
  } finally {
    assert.is(await server.stop(), 0);
  }
});

test('seed-controller rate settings under the adaptive controller start the service with one line on stderr saying they are ignored', async () => {
  const server = await serve(['--port', '0'], { RS3GW_INITIAL_RATE_LIMIT: '1500' });
  try {
    assert.match(server.output(), /^rs3gw-obs: RS3GW_INITIAL_RATE_LIMIT ignored: the admission controller is 'adaptive', and only the seed controller's token bucket reads it \(RS3GW_ADMISSION_CONTROLLER=seed\)$/m);
  } finally {
    assert.is(await server.stop(), 0);
  }
});

test('a fixed rate under the bounds of the adaptation it never reads starts the service, saying the bounds are ignored', async () => {
  const server = await serve(['--port', '0'], { RS3GW_ADAPTIVE_RATE_LIMIT: 'false', RS3GW_INITIAL_RATE_LIMIT: '50', RS3GW_MIN_RATE_LIMIT: '200', RS3GW_MAX_RATE_LIMIT: '40' });
  try {
    assert.match(server.output(), /^rs3gw-obs: RS3GW_MIN_RATE_LIMIT, RS3GW_MAX_RATE_LIMIT ignored: RS3GW_ADAPTIVE_RATE_LIMIT=false holds the rate at RS3GW_INITIAL_RATE_LIMIT, which the bounds of its adaptation do not limit$/m);
    const resources = await createObservabilityClient(server.url, { protocol: 'connect' }).resources.getResources({});
    assert.equal([resources.status?.admission?.controller, resources.status?.admission?.limit], ['seed', 50]);
  } finally {
    assert.is(await server.stop(), 0);
  }
});

test('a misspelt setting starts the service with one line naming the setting it looks like', async () => {
  const server = await serve(['--port', '0'], { RS3GW_PROFILNG_PIDS: '4242' });
  try {
    assert.match(server.output(), /^rs3gw-obs: RS3GW_PROFILNG_PIDS ignored: it is no setting of this service; did you mean RS3GW_PROFILING_PIDS\? \(see --help\)$/m);
  } finally {
    assert.is(await server.stop(), 0);
  }
});

test('RS3GW_LOAD_SHEDDING_THRESHOLD on a kernel with PSI for CPU starts the service with one line saying it is ignored, naming where PSI was read; without PSI, no such line', async () => {
  for (const [fixture, hasPsi] of [['cgroup-v2-limited', true], ['cgroup-v2-unlimited', false]] as const) {
    const root = mkdtempSync(join(tmpdir(), 'rs3gw-fsroot-'));
    cpSync(join(REPO_ROOT, 'test/fixtures/procfs', fixture), root, { recursive: true });
    const server = await serve(['--port', '0'], { RS3GW_FS_ROOT: root, RS3GW_LOAD_SHEDDING_THRESHOLD: '0.5' });
    try {
      const line = /^rs3gw-obs: RS3GW_LOAD_SHEDDING_THRESHOLD ignored: the kernel reports PSI for CPU \(cgroup2:\/sys\/fs\/cgroup\/system\.slice\/rs3gw\.service\), so the time tasks wait for CPU \(RS3GW_PSI_THRESHOLD\) drives load shedding, not busy CPU$/m;
      if (hasPsi) assert.match(server.output(), line, fixture);
      else assert.not.match(server.output(), /RS3GW_LOAD_SHEDDING_THRESHOLD/, fixture);
    } finally {
      assert.is(await server.stop(), 0);
      rmSync(root, { recursive: true, force: true });
    }
  }
});

test('RS3GW_PSI_THRESHOLD where no PSI is acted on and no CPU quota is throttled starts the service with one line saying it is ignored and that busy CPU sheds instead; unset, or with a quota, no such line', async () => {
  const notOwnPsi =
    "the only PSI is not this process's own \\(/proc/pressure \\(host-wide, other tenants' stalls included: this process is in the v1 cgroup /docker/abc123 and there is no cgroup2 to read its own from: reported, not acted on\\)\\)";
  const line = (why: string) =>
    new RegExp(`^rs3gw-obs: RS3GW_PSI_THRESHOLD ignored: ${why}, and there is no CPU quota whose throttled periods it would count, so busy CPU \\(RS3GW_LOAD_SHEDDING_THRESHOLD\\) drives load shedding, not the time tasks wait$`, 'm');
  const cases: Array<{ fixture: string; quota: boolean; env: Record<string, string>; expected?: RegExp }> = [
    // A v1 container reads the host's PSI, which is reported, not acted on; without its CFS quota nothing else reads the threshold.
    { fixture: 'cgroup-v1-limited', quota: false, env: { RS3GW_PSI_THRESHOLD: '10' }, expected: line(notOwnPsi) },
    { fixture: 'cgroup-v1-limited', quota: false, env: {}, expected: undefined },
    // With the quota, the threshold applies to its throttled periods.
    { fixture: 'cgroup-v1-limited', quota: true, env: { RS3GW_PSI_THRESHOLD: '10' }, expected: undefined },
    // A kernel without PSI, and no quota.
    { fixture: 'cgroup-v2-unlimited', quota: false, env: { RS3GW_PSI_THRESHOLD: '10' }, expected: line('the kernel reports no PSI for CPU or I/O') },
  ];
  for (const c of cases) {
    const root = mkdtempSync(join(tmpdir(), 'rs3gw-fsroot-'));
    cpSync(join(REPO_ROOT, 'test/fixtures/procfs', c.fixture), root, { recursive: true });
    if (c.fixture === 'cgroup-v1-limited' && !c.quota) writeFileSync(join(root, 'sys/fs/cgroup/cpu,cpuacct/docker/abc123/cpu.cfs_quota_us'), '-1\n');
    const server = await serve(['--port', '0'], { RS3GW_FS_ROOT: root, ...c.env });
    const what = `${c.fixture}${c.quota ? '' : ' without a CPU quota'}, ${JSON.stringify(c.env)}`;
    try {
      if (c.expected) assert.match(server.output(), c.expected, what);
      else assert.not.match(server.output(), /RS3GW_PSI_THRESHOLD ignored/, what);
    } finally {
      assert.is(await server.stop(), 0);
      rmSync(root, { recursive: true, force: true });
    }
  }
});

test('a port already in use stops start-up with exit code 1 and one line naming the setting, not a hang', async () => {
  const first = await serve(['--port', '0'], {});
  try {
    const port = new URL(first.url).port;
    const { code, stderr } = await cli(['serve', '--port', port]);
    assert.is(code, 1, stderr);
    assert.ok(stderr.startsWith(`rs3gw-obs: RS3GW_PORT (--port): port ${port} on 127.0.0.1 is already in use (listen EADDRINUSE`), stderr);
    assert.is(stderr.trim().split('\n').length, 1, stderr);
  } finally {
    assert.is(await first.stop(), 0);
  }
});

test.run();
