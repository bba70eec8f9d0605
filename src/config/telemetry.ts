/** The standard OpenTelemetry variables we honour, validated like our own. */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, MAX_TIMER_MS, parseCount, parseFraction, parseOneOf, type Parser } from './parse.js';

export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

export type ExporterName = 'otlp' | 'console';
const EXPORTERS: readonly ExporterName[] = ['otlp', 'console'];

export type PropagatorName = 'tracecontext' | 'baggage';
const PROPAGATORS: readonly PropagatorName[] = ['tracecontext', 'baggage'];
/** Propagators OpenTelemetry names that would each need a package of their own. */
const UNSHIPPED_PROPAGATORS = ['b3', 'b3multi', 'jaeger', 'xray', 'ottrace'];

/** OTEL_LOG_LEVEL's values: how much of OpenTelemetry's own log reaches stderr. */
export type LogLevelName = 'none' | 'error' | 'warn' | 'info' | 'debug' | 'verbose' | 'all';

const LOG_LEVELS: readonly LogLevelName[] = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'];

export interface TelemetryConfig {
  /** OTEL_SDK_DISABLED=true: no spans recorded or exported, whatever else is set. */
  disabled: boolean;
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, parsed. */
  resourceAttributes: Record<string, string>;
  /** OTEL_TRACES_EXPORTER, each exporter once; by default otlp when an OTLP endpoint is set, else none (empty). */
  exporters: readonly ExporterName[];
  /** OTEL_PROPAGATORS, each once; none (empty) ignores incoming trace context. */
  propagators: readonly PropagatorName[];
  /** OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL: grpc, http/protobuf (default) or http/json. */
  protocol: 'grpc' | 'http/protobuf' | 'http/json';
  /** Where the OTLP exporter sends spans (it is given this URL); undefined when no endpoint variable is set. */
  endpoint: string | undefined;
  /** OTEL_EXPORTER_OTLP_HEADERS with OTEL_EXPORTER_OTLP_TRACES_HEADERS over it, decoded, by lower-case name. */
  headers: Record<string, string>;
  /**
   * Whether OTLP/gRPC export uses TLS, as the exporter decides it: plaintext to an http://
   * endpoint (and the default, http://localhost:4317), TLS to https://, and to host:port or
   * unix:// TLS unless OTEL_EXPORTER_OTLP_(TRACES_)INSECURE is true. Meaningless for OTLP/HTTP.
   */
  grpcTls: boolean;
  /** OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT: milliseconds the OTLP exporter spends on one export, its retries included. */
  otlpTimeoutMillis: number;
  /** OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION. */
  compression: 'gzip' | 'none';
  /**
   * The PEM files of OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE, _CLIENT_CERTIFICATE and _CLIENT_KEY,
   * read and checked at start-up when spans go to OTLP (else none), for OTLP over TLS.
   */
  otlpTls: OtlpTlsFiles;
  /**
   * Longest value of a span attribute the service takes from a client's request (url.path,
   * url.query): 1024 characters, unless OTEL_(SPAN_)ATTRIBUTE_VALUE_LENGTH_LIMIT is set, which the
   * SDK then applies to every attribute (Infinity here).
   */
  clientAttributeMaxChars: number;
  sampler: SamplerName;
  samplerRatio: number;
  logLevel: LogLevelName;
  /** OTEL_BSP_*: the batch span processor's settings, in milliseconds and spans. */
  batch: BatchConfig;
}

export interface OtlpTlsFiles {
  /** Certificates trusted for the collector, instead of Node's. */
  ca?: Buffer;
  /** The client certificate (chain) and its key, for mutual TLS: both or neither. */
  cert?: Buffer;
  key?: Buffer;
}

export interface BatchConfig {
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
}

/** A variable as --help and the README's configuration table show it. */
export interface TelemetryVariable {
  env: string;
  /** As --help shows it; empty means "unset". */
  default: string;
  help: string;
}

/** Every OTEL_* variable the service reads itself, in the order --help and the README list them. */
export const TELEMETRY_VARIABLES: readonly TelemetryVariable[] = [
  { env: 'OTEL_EXPORTER_OTLP_ENDPOINT', default: '', help: 'Collector base URL (http:// or https://; for grpc also host:port or unix://), to which OTLP/HTTP appends v1/traces (so no query or fragment); setting it turns OTLP export on' },
  { env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', default: '', help: 'URL for spans, used as given (wins over OTEL_EXPORTER_OTLP_ENDPOINT); setting it turns OTLP export on' },
  { env: 'OTEL_EXPORTER_OTLP_PROTOCOL', default: 'http/protobuf', help: 'http/protobuf (port 4318), http/json or grpc (port 4317)' },
  { env: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', default: '', help: 'The same for spans (wins over OTEL_EXPORTER_OTLP_PROTOCOL)' },
  { env: 'OTEL_EXPORTER_OTLP_HEADERS', default: '', help: 'Headers sent with every export (such as authorization): key=value pairs separated by commas, values percent-encoded (printable ASCII once decoded)' },
  { env: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', default: '', help: 'The same for spans, added to OTEL_EXPORTER_OTLP_HEADERS (a key in both takes this value)' },
  { env: 'OTEL_EXPORTER_OTLP_INSECURE', default: 'false', help: 'true sends OTLP/gRPC to a host:port or unix:// endpoint in plaintext; otherwise it uses TLS (an http:// endpoint is plaintext and https:// TLS, whatever this says). Read, and checked, for OTLP/gRPC only' },
  { env: 'OTEL_EXPORTER_OTLP_TRACES_INSECURE', default: '', help: 'The same for spans (wins over OTEL_EXPORTER_OTLP_INSECURE)' },
  { env: 'OTEL_EXPORTER_OTLP_TIMEOUT', default: '10000', help: `Milliseconds the OTLP exporter spends on one export, its retries included (at most ${MAX_TIMER_MS}); OTEL_BSP_EXPORT_TIMEOUT may end it sooner` },
  { env: 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', default: '', help: 'The same for spans (wins over OTEL_EXPORTER_OTLP_TIMEOUT)' },
  { env: 'OTEL_EXPORTER_OTLP_COMPRESSION', default: 'none', help: 'gzip or none: whether the OTLP exporter compresses what it sends' },
  { env: 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', default: '', help: 'The same for spans (wins over OTEL_EXPORTER_OTLP_COMPRESSION)' },
  { env: 'OTEL_EXPORTER_OTLP_CERTIFICATE', default: '', help: "PEM file of the certificates OTLP over TLS trusts for the collector, instead of Node's; read at start-up when spans go to OTLP over TLS (https://, or gRPC without INSECURE), as the client files are (a relative path is from the working directory; a regular file of at most 1 MiB)" },
  { env: 'OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE', default: '', help: 'The same for spans (wins over OTEL_EXPORTER_OTLP_CERTIFICATE)' },
  { env: 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE', default: '', help: 'PEM file of the certificate (chain) OTLP over TLS presents to the collector (mutual TLS), with the key of OTEL_EXPORTER_OTLP_CLIENT_KEY' },
  { env: 'OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE', default: '', help: 'The same for spans (wins over OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)' },
  { env: 'OTEL_EXPORTER_OTLP_CLIENT_KEY', default: '', help: 'PEM file of the private key (unencrypted) of that client certificate' },
  { env: 'OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY', default: '', help: 'The same for spans (wins over OTEL_EXPORTER_OTLP_CLIENT_KEY)' },
  { env: 'OTEL_SDK_DISABLED', default: 'false', help: 'true turns tracing off: no spans are recorded or exported, whatever else is set' },
  { env: 'OTEL_TRACES_EXPORTER', default: 'otlp with an endpoint, else none', help: 'Comma-separated: otlp, console (spans printed on stdout); or none' },
  { env: 'OTEL_PROPAGATORS', default: 'tracecontext,baggage', help: 'Comma-separated: tracecontext (W3C traceparent), baggage (W3C baggage); or none (incoming context ignored)' },
  { env: 'OTEL_TRACES_SAMPLER', default: 'parentbased_always_on', help: SAMPLERS.join(', ') },
  { env: 'OTEL_TRACES_SAMPLER_ARG', default: '1', help: 'Sampling ratio in [0, 1] of traceidratio and parentbased_traceidratio (the other samplers ignore it)' },
  { env: 'OTEL_SERVICE_NAME', default: 'rs3gw-observability', help: 'service.name of the spans (wins over OTEL_RESOURCE_ATTRIBUTES)' },
  { env: 'OTEL_RESOURCE_ATTRIBUTES', default: '', help: 'Resource attributes of the spans: key=value pairs separated by commas, percent-encoded' },
  { env: 'OTEL_BSP_SCHEDULE_DELAY', default: '1000', help: "Milliseconds between exports of the spans buffered (OpenTelemetry's default is 5000)" },
  { env: 'OTEL_BSP_EXPORT_TIMEOUT', default: '30000', help: 'Milliseconds an export may take, the last one at shutdown included (at least 1)' },
  { env: 'OTEL_BSP_MAX_QUEUE_SIZE', default: '2048', help: 'Spans buffered at most; more are dropped, and stderr says how many (at once, then once a minute, and in all at shutdown)' },
  { env: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', default: '512', help: 'Spans sent in one export, at most OTEL_BSP_MAX_QUEUE_SIZE' },
  { env: 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', default: '', help: 'Characters of a span attribute value kept at most, for every attribute (unset: no bound, but url.path and url.query, which clients choose, are cut at 1024)' },
  { env: 'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', default: '', help: 'The same (wins over OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT)' },
  { env: 'OTEL_LOG_LEVEL', default: 'warn', help: `OpenTelemetry's own log on stderr, such as failed exports: ${LOG_LEVELS.join(', ')}` },
];

/** OpenTelemetry's rule for its variables: empty (or blank) is the same as unset. */
function otelVar(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

/** A variable's parsed value, or `fallback` when it is unset. */
function otelValue<T>(env: NodeJS.ProcessEnv, name: string, parse: Parser<T>, fallback: T): T {
  const value = otelVar(env, name);
  return value !== undefined ? parse(value, name) : fallback;
}

/**
 * A comma-separated list of names from `known`, each kept once in the order given, or `none` alone
 * (the empty list). `unshipped` are names OpenTelemetry defines that this service does not include.
 */
function parseNames<T extends string>(known: readonly T[], unshipped: readonly string[] = []): Parser<T[]> {
  return (raw, setting) => {
    const names = [...new Set(raw.split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== ''))];
    if (names.length === 1 && names[0] === 'none') return [];
    const expected = `a comma-separated list of ${known.join(', ')}, or none alone`;
    if (names.length === 0) throw new ConfigError(setting, `must be ${expected}, got '${raw}'`);
    for (const name of names) {
      if (unshipped.includes(name)) throw new ConfigError(setting, `${name} is not included in this service; use ${known.join(', ')} or none`);
      if (!known.includes(name as T)) throw new ConfigError(setting, `must be ${expected}, got '${raw}'`);
    }
    return names as T[];
  };
}

/** OpenTelemetry's booleans: true or false, in any case. */
const parseOtelBoolean: Parser<boolean> = (raw, setting) => {
  const v = raw.trim().toLowerCase();
  if (v !== 'true' && v !== 'false') throw new ConfigError(setting, `must be true or false, got '${raw}'`);
  return v === 'true';
};

/** Milliseconds, 0 allowed (export as soon as a span ends), within Node's timers. */
const parseDelayMillis: Parser<number> = (raw, setting) => {
  const v = raw.trim();
  if (!/^\d+$/.test(v) || Number(v) > MAX_TIMER_MS) throw new ConfigError(setting, `must be a whole number of milliseconds from 0 to ${MAX_TIMER_MS}, got '${raw}'`);
  return Number(v);
};

/**
 * The value of OTEL_EXPORTER_OTLP_TRACES_<what> when it is set, else of OTEL_EXPORTER_OTLP_<what>,
 * after `parse` has checked both: a mistake in the general one is worth a word even when the
 * traces one overrides it.
 */
function exporterValue<T>(env: NodeJS.ProcessEnv, what: string, parse: Parser<T>, fallback: T): T {
  const general = otelValue(env, `OTEL_EXPORTER_OTLP_${what}`, parse, fallback);
  return otelValue(env, `OTEL_EXPORTER_OTLP_TRACES_${what}`, parse, general);
}

/** The variable in force of OTEL_EXPORTER_OTLP_TRACES_<what> and OTEL_EXPORTER_OTLP_<what>, undefined if neither is set. */
function exporterVariable(env: NodeJS.ProcessEnv, what: string): string | undefined {
  return [`OTEL_EXPORTER_OTLP_TRACES_${what}`, `OTEL_EXPORTER_OTLP_${what}`].find((name) => otelVar(env, name) !== undefined);
}

const parseCompression: Parser<'gzip' | 'none'> = (raw, setting) => {
  const v = raw.trim().toLowerCase();
  if (v !== 'gzip' && v !== 'none') throw new ConfigError(setting, `must be gzip or none, got '${raw}'`);
  return v;
};

/** Larger than any certificate chain or key a collector's TLS needs. */
const MAX_PEM_BYTES = 1024 * 1024;

/** A PEM file a variable names, read whole; the exporter read it from the working directory too. */
function readPemFile(env: NodeJS.ProcessEnv, name: string): Buffer {
  const path = otelVar(env, name)!;
  const file = resolve(process.cwd(), path);
  let size: number;
  try {
    const stats = statSync(file);
    // A device or FIFO never ends (/dev/zero filled memory, a FIFO held start-up for good).
    if (!stats.isFile()) throw new ConfigError(name, `'${path}' is not a regular file`);
    size = stats.size;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(name, `cannot read '${path}': ${(error as Error).message}`);
  }
  if (size > MAX_PEM_BYTES) throw new ConfigError(name, `'${path}' holds ${size} bytes, more than the ${MAX_PEM_BYTES} a PEM certificate or key file takes here`);
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(name, `cannot read '${path}': ${(error as Error).message}`);
  }
}

/**
 * The certificate files OTLP over TLS uses, checked as Node's TLS would take them: left to the
 * exporter, a file missing or not PEM was a warning (or no word at all) at start-up, and every
 * export to the collector then failed its handshake.
 */
function readOtlpTls(env: NodeJS.ProcessEnv): OtlpTlsFiles {
  const files: OtlpTlsFiles = {};
  const caName = exporterVariable(env, 'CERTIFICATE');
  if (caName !== undefined) {
    files.ca = readPemFile(env, caName);
    try {
      new X509Certificate(files.ca);
    } catch (error) {
      throw new ConfigError(caName, `'${otelVar(env, caName)}' holds no PEM certificate (${(error as Error).message})`);
    }
  }
  const certName = exporterVariable(env, 'CLIENT_CERTIFICATE');
  const keyName = exporterVariable(env, 'CLIENT_KEY');
  if (certName === undefined && keyName === undefined) return files;
  // One without the other fails every TLS handshake (the gRPC exporter dropped both).
  if (certName === undefined) throw new ConfigError(keyName!, 'is a client key, and needs OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE (or its TRACES_ form) beside it');
  if (keyName === undefined) throw new ConfigError(certName, 'is a client certificate, and needs OTEL_EXPORTER_OTLP_CLIENT_KEY (or its TRACES_ form) beside it');
  files.cert = readPemFile(env, certName);
  files.key = readPemFile(env, keyName);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(files.cert);
  } catch (error) {
    throw new ConfigError(certName, `'${otelVar(env, certName)}' holds no PEM certificate (${(error as Error).message})`);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(files.key);
  } catch {
    // The key file is not quoted: what a parser says of it might show some of it.
    throw new ConfigError(keyName, `'${otelVar(env, keyName)}' holds no unencrypted PEM private key`);
  }
  if (!certificate.checkPrivateKey(key)) throw new ConfigError(keyName, `is not the key of the certificate in ${certName}`);
  return files;
}

/** The exporter's choice of TLS for OTLP/gRPC (see TelemetryConfig.grpcTls), from the endpoint with its scheme in lower case. */
function grpcUsesTls(endpoint: string | undefined, insecure: boolean): boolean {
  if (endpoint === undefined || endpoint.startsWith('http://')) return false;
  if (endpoint.startsWith('https://')) return true;
  return !insecure;
}

/** The bound the service puts on attributes from client input unless OTEL_(SPAN_)ATTRIBUTE_VALUE_LENGTH_LIMIT sets one for all. */
const CLIENT_ATTRIBUTE_MAX_CHARS = 1024;

function readClientAttributeMaxChars(env: NodeJS.ProcessEnv): number {
  let set = false;
  for (const name of ['OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT']) {
    // The SDK reads them itself, and ignores a value that is no number: it is refused here rather than ignored.
    if (otelVar(env, name) !== undefined) {
      otelValue(env, name, parseCount(), 0);
      set = true;
    }
  }
  return set ? Infinity : CLIENT_ATTRIBUTE_MAX_CHARS;
}

function readBatchConfig(env: NodeJS.ProcessEnv): BatchConfig {
  const maxQueueSize = otelValue(env, 'OTEL_BSP_MAX_QUEUE_SIZE', parseCount(), 2048);
  // A batch larger than the queue cannot fill: the default batch follows a smaller queue, as the
  // SDK does; a batch size set larger than the queue is a mistake worth a word.
  const maxExportBatchSize = otelValue(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', parseCount(), Math.min(512, maxQueueSize));
  if (maxExportBatchSize > maxQueueSize) {
    throw new ConfigError('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', `must not exceed OTEL_BSP_MAX_QUEUE_SIZE (${maxExportBatchSize} > ${maxQueueSize})`);
  }
  return {
    scheduledDelayMillis: otelValue(env, 'OTEL_BSP_SCHEDULE_DELAY', parseDelayMillis, 1000),
    // At least 1 ms: the final export at shutdown must end.
    exportTimeoutMillis: otelValue(env, 'OTEL_BSP_EXPORT_TIMEOUT', parseCount(MAX_TIMER_MS), 30_000),
    maxQueueSize,
    maxExportBatchSize,
  };
}

/**
 * An OTLP endpoint: an http:// or https:// URL with a host, as the specification asks. The gRPC
 * exporter also reads host:port (as https://host:port) and unix:// socket addresses.
 */
function checkEndpoint(name: string, value: string, protocol: TelemetryConfig['protocol'], tracesEndpointSet: boolean): void {
  const grpc = protocol === 'grpc';
  let url: URL | undefined;
  try {
    url = new URL(grpc && !/^\w{1,8}:\/\//.test(value) ? `https://${value}` : value);
  } catch {
    url = undefined;
  }
  const web = (url?.protocol === 'http:' || url?.protocol === 'https:') && url.hostname !== '';
  // unix:// names a socket by its path: without one every export failed 'connect ECONNREFUSED //'.
  const socket = url?.protocol === 'unix:' && url.pathname.replace(/^\/+/, '') !== '';
  if (!web && !(grpc && socket)) {
    const alternatives = grpc ? ' (or, for grpc, host:port or a unix:// socket)' : '';
    throw new ConfigError(name, `must be an http:// or https:// URL with a host${alternatives}, got '${value}'`);
  }
  // OTLP/HTTP appends the signal's path to the general endpoint, which would land in a query or
  // fragment (unless the traces endpoint is set, and used instead). Not shown: a query may hold a key.
  if (name === 'OTEL_EXPORTER_OTLP_ENDPOINT' && !grpc && !tracesEndpointSet && /[?#]/.test(value)) {
    throw new ConfigError(name, 'must have no query (?) or fragment (#) with OTLP/HTTP, which appends v1/traces to it; give the whole URL in OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, which is used as given');
  }
}

/**
 * OTEL_EXPORTER_OTLP_(TRACES_)HEADERS, decoded: the exporters, left to read them, drop an entry
 * they cannot read without a word, and an export that needed it (authorization) would then be
 * refused by the collector with nothing saying why.
 */
function readHeaders(env: NodeJS.ProcessEnv, name: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const entry of (otelVar(env, name) ?? '').split(',')) {
    if (entry.trim() === '') continue;
    const eq = entry.indexOf('=');
    const key = eq < 0 ? '' : entry.slice(0, eq).trim();
    // A header name's characters, less '%', which the exporters would decode.
    if (!/^[!#$&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) {
      throw new ConfigError(name, `expected key=value pairs separated by commas, with a header name as the key, got an entry ${eq < 0 ? 'without =' : `whose key is '${key}'`} (values are not shown: they may be secrets)`);
    }
    const value = entry.slice(eq + 1).trim();
    // The exporter drops an empty value, and cuts a value at a ';' (W3C baggage's properties).
    // Only the key is named: the value may be a secret (an authorization header).
    if (value === '') throw new ConfigError(name, `the value of '${key}' is empty`);
    if (value.includes(';')) throw new ConfigError(name, `values are percent-encoded (';' as %3B), and the value of '${key}' is not`);
    let decoded: string;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      throw new ConfigError(name, `values are percent-encoded, and the value of '${key}' is not`);
    }
    // gRPC metadata takes printable ASCII only (grpc-js threw at start-up, its message showing the
    // value), and Node's HTTP refuses what is beyond Latin-1 on every export.
    if (!/^[\x20-\x7e]*$/.test(decoded)) {
      throw new ConfigError(name, `the value of '${key}', percent-decoded, must be printable ASCII, as header values are; it is not (values are not shown: they may be secrets)`);
    }
    // Header names are case-insensitive (and gRPC metadata keys lower-case): one value a name.
    headers[key.toLowerCase()] = decoded;
  }
  return headers;
}

/**
 * Schemes are case-insensitive, but the gRPC exporter chose plaintext for http:// alone (HTTP://
 * went over TLS): the exporter is given the scheme in lower case, and TLS is decided on it.
 */
function lowerCaseScheme(endpoint: string | undefined): string | undefined {
  return endpoint?.replace(/^[a-z][a-z0-9+.-]*:\/\//i, (scheme) => scheme.toLowerCase());
}

/**
 * The URL the OTLP exporter is given, and start-up names: the traces endpoint as given; otherwise
 * the general one, to which OTLP/HTTP adds the signal's path (v1/traces) and OTLP/gRPC nothing.
 */
function tracesEndpoint(env: NodeJS.ProcessEnv, protocol: TelemetryConfig['protocol']): string | undefined {
  const traces = lowerCaseScheme(otelVar(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'));
  if (traces !== undefined) return traces;
  const base = lowerCaseScheme(otelVar(env, 'OTEL_EXPORTER_OTLP_ENDPOINT'));
  if (base === undefined || protocol === 'grpc') return base;
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

function decodeAttribute(text: string, pair: string): string {
  try {
    return decodeURIComponent(text.trim());
  } catch {
    throw new ConfigError('OTEL_RESOURCE_ATTRIBUTES', `keys and values are percent-encoded, and '${pair}' is not`);
  }
}

export function readTelemetryConfig(env: NodeJS.ProcessEnv): TelemetryConfig {
  // The traces protocol wins over the general one, but a wrong value in either is reported.
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const value = otelVar(env, name)?.toLowerCase();
    if (value !== undefined && value !== 'grpc' && value !== 'http/protobuf' && value !== 'http/json') {
      throw new ConfigError(name, `must be grpc, http/protobuf or http/json, got '${env[name]}'`);
    }
  }
  const protocolName = otelVar(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = (otelVar(env, protocolName)?.toLowerCase() ?? 'http/protobuf') as TelemetryConfig['protocol'];
  const headers = { ...readHeaders(env, 'OTEL_EXPORTER_OTLP_HEADERS'), ...readHeaders(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS') };

  // The traces endpoint wins over the general one, but a wrong value in either is reported.
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT']) {
    const value = otelVar(env, name);
    if (value !== undefined) checkEndpoint(name, value, protocol, otelVar(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined);
  }
  const endpoint = tracesEndpoint(env, protocol);
  const exporters = otelValue(env, 'OTEL_TRACES_EXPORTER', parseNames(EXPORTERS), endpoint !== undefined ? ['otlp' as const] : []);
  const propagators = otelValue(env, 'OTEL_PROPAGATORS', parseNames(PROPAGATORS, UNSHIPPED_PROPAGATORS), [...PROPAGATORS]);

  const samplerVar = (otelVar(env, 'OTEL_TRACES_SAMPLER')?.toLowerCase() ?? 'parentbased_always_on') as SamplerName;
  if (!SAMPLERS.includes(samplerVar)) {
    throw new ConfigError('OTEL_TRACES_SAMPLER', `must be one of ${SAMPLERS.join(', ')}, got '${env.OTEL_TRACES_SAMPLER}'`);
  }
  // Only the ratio samplers read an argument; the others ignore it, as OpenTelemetry specifies.
  const takesRatio = samplerVar === 'traceidratio' || samplerVar === 'parentbased_traceidratio';
  const samplerRatio = takesRatio ? otelValue(env, 'OTEL_TRACES_SAMPLER_ARG', parseFraction, 1) : 1;

  const resourceAttributes: Record<string, string> = {};
  for (const pair of (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError('OTEL_RESOURCE_ATTRIBUTES', `expected key=value pairs, got '${pair}'`);
    resourceAttributes[decodeAttribute(pair.slice(0, eq), pair)] = decodeAttribute(pair.slice(eq + 1), pair);
  }
  const serviceName = otelVar(env, 'OTEL_SERVICE_NAME') || resourceAttributes['service.name'] || 'rs3gw-observability';
  const logLevel = otelValue(env, 'OTEL_LOG_LEVEL', parseOneOf(LOG_LEVELS), 'warn');
  const disabled = otelValue(env, 'OTEL_SDK_DISABLED', parseOtelBoolean, false);
  // Only OTLP/gRPC reads the insecure flag: for OTLP/HTTP it is not read, so not checked either.
  const grpcTls = protocol === 'grpc' ? grpcUsesTls(endpoint, exporterValue(env, 'INSECURE', parseOtelBoolean, false)) : false;
  const usesTls = protocol === 'grpc' ? grpcTls : endpoint?.startsWith('https://') === true;
  return {
    disabled,
    serviceName,
    resourceAttributes,
    exporters,
    propagators,
    protocol,
    endpoint,
    headers,
    grpcTls,
    otlpTimeoutMillis: exporterValue(env, 'TIMEOUT', parseCount(MAX_TIMER_MS), 10_000),
    compression: exporterValue(env, 'COMPRESSION', parseCompression, 'none'),
    // Files are read only for an exporter that will use them, over TLS: environments often set them
    // for every service, whatever its collector.
    otlpTls: !disabled && exporters.includes('otlp') && usesTls ? readOtlpTls(env) : {},
    clientAttributeMaxChars: readClientAttributeMaxChars(env),
    sampler: samplerVar,
    samplerRatio,
    logLevel,
    batch: readBatchConfig(env),
  };
}
